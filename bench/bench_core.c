/* Benchmark of the reference core (issue 8, "Benchmarks"): operations per
 * second of generate, sign and load through ref_core against the simulated
 * world — each a complete operation: files, keychain, Secure Enclave (real
 * ECDSA P-256 through OpenSSL), the journal line of every Apple call.
 *
 *   core.generate       new keys (SE key, EHW1 handle, wrapping-key item, files)
 *   core.sign           signs with the wrapping key cached (the agent's steady state)
 *   core.sign_nocache   signs with cache-ttl 0: every sign reads the keychain
 *   core.load           loads served from the wrapping-key cache
 *   core.load_nocache   loads that read the keychain and decrypt the handle
 *
 * One signed process with an access group (the data-protection keychain), an
 * unlocked device, no presence; the world clock never moves, so nothing
 * expires. Each figure is the best of ROUNDS rounds, each from a fresh world.
 * Output: one "name value unit" line per figure (bench/run.sh collects them).
 * Benchmarks are the one place that reads real time (CLOCK_MONOTONIC).
 * Exit status 0; 2 when an operation fails.
 */
#include <CoreFoundation/CoreFoundation.h>
#include <keyclass/world.h>
#include <ref/core.h>

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 3
#define KEYS 64
#define SIGNS 2000
#define LOADS 20000
#define GROUP "TEAMID.com.example.sshenc"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void check(ref_error err, const char *what) {
    if (err != REF_OK) {
        fprintf(stderr, "bench_core: %s failed: %s\n", what, ref_error_name(err));
        exit(2);
    }
}

typedef struct {
    world *w;
    ref_core *cached;
    ref_core *uncached;
} bench_world;

static ref_core *new_core(int64_t ttl_ms) {
    ref_config cfg;
    ref_config_init(&cfg);
    cfg.access_group = GROUP;
    cfg.wrap_presence = false;
    cfg.cache_ttl_ms = ttl_ms;
    ref_core *core = ref_core_new(&cfg);
    if (core == NULL) {
        fprintf(stderr, "bench_core: the core refused its configuration\n");
        exit(2);
    }
    return core;
}

static bench_world fresh(void) {
    bench_world b;
    b.w = world_new(7);
    if (b.w == NULL)
        exit(2);
    world_activate(b.w);
    world_device_boot(b.w);
    world_device_unlock(b.w);
    world_process_config pc = {
        .name = "agent", .app = "sshenc", .is_signed = true, .access_group = GROUP, .gui = true};
    world_set_current(b.w, world_process_add(b.w, &pc));
    b.cached = new_core(300000);
    b.uncached = new_core(0);
    return b;
}

static void done(bench_world *b) {
    ref_core_free(b->cached);
    ref_core_free(b->uncached);
    world_activate(NULL);
    world_free(b->w);
}

static void label(char *buf, size_t cap, int i) { snprintf(buf, cap, "k%03d", i); }

static double min_of(double a, double b) { return a < b ? a : b; }

int main(void) {
    double generate = 1e18, sign = 1e18, sign_nc = 1e18, load = 1e18, load_nc = 1e18;
    static const char msg[] = "keyclass bench message";
    for (int r = 0; r < ROUNDS; r++) {
        bench_world b = fresh();
        char l[16];
        double t0 = now_s();
        for (int i = 0; i < KEYS; i++) {
            label(l, sizeof l, i);
            check(ref_core_generate(b.cached, l, REF_AUTH_NONE, REF_PRESENCE_NONE), "generate");
        }
        double t1 = now_s();
        generate = min_of(generate, (t1 - t0) / KEYS);

        for (int pass = 0; pass < 2; pass++) {
            ref_core *core = pass == 0 ? b.cached : b.uncached;
            t0 = now_s();
            for (int i = 0; i < SIGNS; i++) {
                CFDataRef sig = NULL;
                label(l, sizeof l, i % KEYS);
                check(ref_core_sign(core, l, msg, sizeof msg - 1, REF_PRESENCE_NONE,
                                    REF_TTL_DEFAULT, &sig),
                      "sign");
                CFRelease(sig);
            }
            t1 = now_s();
            if (pass == 0)
                sign = min_of(sign, (t1 - t0) / SIGNS);
            else
                sign_nc = min_of(sign_nc, (t1 - t0) / SIGNS);

            t0 = now_s();
            for (int i = 0; i < LOADS; i++) {
                label(l, sizeof l, i % KEYS);
                check(ref_core_load(core, l), "load");
            }
            t1 = now_s();
            if (pass == 0)
                load = min_of(load, (t1 - t0) / LOADS);
            else
                load_nc = min_of(load_nc, (t1 - t0) / LOADS);
        }
        done(&b);
    }
    printf("core.generate %.0f ops/s\n", 1.0 / generate);
    printf("core.sign %.0f ops/s\n", 1.0 / sign);
    printf("core.sign_nocache %.0f ops/s\n", 1.0 / sign_nc);
    printf("core.load %.0f ops/s\n", 1.0 / load);
    printf("core.load_nocache %.0f ops/s\n", 1.0 / load_nc);
    return 0;
}
