/* Shared helpers of the libFuzzer targets (common.h). */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

_Noreturn void fuzz_violation(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "\n== keyclass fuzz: property violated at %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    abort();
}

uint8_t fuzz_u8(fuzz_reader *r) {
    if (r->n == 0)
        return 0;
    uint8_t v = r->p[0];
    r->p++;
    r->n--;
    return v;
}

uint32_t fuzz_u32(fuzz_reader *r) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)fuzz_u8(r) << (8 * i);
    return v;
}

unsigned fuzz_pick(fuzz_reader *r, unsigned n) { return n <= 1 ? 0 : fuzz_u8(r) % n; }

bool fuzz_more(const fuzz_reader *r) { return r->n > 0; }

/* Sanitizer defaults for the fuzz binaries (ASAN_OPTIONS / UBSAN_OPTIONS in
 * the environment still win): shorter allocation stacks and a smaller
 * quarantine keep the many small CF objects of every case cheap; UBSan
 * prints a stack for every finding. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) {
    return "malloc_context_size=8:quarantine_size_mb=64:detect_stack_use_after_return=0";
}
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void) { return "print_stacktrace=1:halt_on_error=1"; }
