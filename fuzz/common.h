/* Shared by the libFuzzer targets in fuzz/: property checks that abort.
 *
 * A fuzz target asserts properties, not just "no crash": FUZZ_CHECK prints
 * the violated property (target, file, line, message) on stderr and calls
 * abort(), which libFuzzer reports as a crash and saves the input for. */
#ifndef KEYCLASS_FUZZ_COMMON_H
#define KEYCLASS_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

_Noreturn void fuzz_violation(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_violation(__FILE__, __LINE__, __VA_ARGS__);                                       \
    } while (0)

/* A little-endian reader over the fuzz input; past the end it yields zeros. */
typedef struct {
    const uint8_t *p;
    size_t n;
} fuzz_reader;

uint8_t fuzz_u8(fuzz_reader *r);
uint32_t fuzz_u32(fuzz_reader *r);
/* A value in 0..n-1 (n >= 1) from one byte. */
unsigned fuzz_pick(fuzz_reader *r, unsigned n);
bool fuzz_more(const fuzz_reader *r);

#endif
