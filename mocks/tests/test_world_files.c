/* The per-user file store: kc_file_* through the hook, and the world's
 * direct inspection (keyclass/files.h, keyclass/world.h). */
#include "test_sec_helpers.h"

#include "keyclass/files.h"

#include <errno.h>

static int setup(void **state) {
    if (world_fx_setup(state, 99) != 0)
        return -1;
    world *w = ((world_fx *)*state)->w;
    world_process_config cfg = {.name = "agent", .is_signed = true, .gui = true};
    world_set_current(w, world_process_add(w, &cfg));
    return 0;
}

static world *W(void **state) { return ((world_fx *)*state)->w; }

/* Reads `path` through kc_file_read and compares with `want`; releases the data. */
static void expect_file(const char *path, const char *want, int line) {
    CFDataRef data = NULL;
    int st = kc_file_read(path, &data);
    if (st != 0)
        fail_msg("line %d: kc_file_read(%s) = %d", line, path, st);
    assert_non_null(data);
    size_t n = strlen(want);
    if ((size_t)CFDataGetLength(data) != n || memcmp(CFDataGetBytePtr(data), want, n) != 0)
        fail_msg("line %d: %s holds the wrong bytes", line, path);
    CFRelease(data);
}
#define EXPECT_FILE(path, want) expect_file((path), (want), __LINE__)

static void test_write_read_replace(void **state) {
    world *w = W(state);
    assert_false(kc_file_exists("keys/k1.handle"));
    assert_int_equal(kc_file_write_atomic("keys/k1.handle", "first", 5), 0);
    assert_true(kc_file_exists("keys/k1.handle"));
    EXPECT_FILE("keys/k1.handle", "first");
    /* Replace: the new bytes, whole (longer, then shorter). */
    assert_int_equal(kc_file_write_atomic("keys/k1.handle", "second-longer", 13), 0);
    EXPECT_FILE("keys/k1.handle", "second-longer");
    assert_int_equal(kc_file_write_atomic("keys/k1.handle", "3", 1), 0);
    EXPECT_FILE("keys/k1.handle", "3");
    assert_int_equal(world_file_count(w), 1);
    /* Empty files exist and read as empty data. */
    assert_int_equal(kc_file_write_atomic("keys/empty", NULL, 0), 0);
    assert_true(kc_file_exists("keys/empty"));
    EXPECT_FILE("keys/empty", "");
    /* Binary bytes, NULs included, survive. */
    static const unsigned char bin[5] = {0, 0xff, 0, 1, 0};
    assert_int_equal(kc_file_write_atomic("keys/bin", bin, sizeof bin), 0);
    size_t len = 0;
    const unsigned char *got = world_file_get(w, "keys/bin", &len);
    assert_non_null(got);
    assert_int_equal(len, sizeof bin);
    assert_memory_equal(got, bin, sizeof bin);
}

static void test_read_missing(void **state) {
    (void)state;
    CFDataRef data = (CFDataRef)(uintptr_t)1; /* must be reset */
    assert_int_equal(kc_file_read("nope", &data), -ENOENT);
    assert_null(data);
    assert_int_equal(kc_file_read(NULL, &data), -EINVAL);
    assert_int_equal(kc_file_read("nope", NULL), -EINVAL);
    assert_int_equal(kc_file_write_atomic(NULL, "x", 1), -EINVAL);
    assert_int_equal(kc_file_write_atomic("p", NULL, 3), -EINVAL);
    assert_false(kc_file_exists("p"));
}

/* The data returned is a copy: later writes do not change it. */
static void test_read_returns_copy(void **state) {
    (void)state;
    assert_int_equal(kc_file_write_atomic("f", "abc", 3), 0);
    CFDataRef data = NULL;
    assert_int_equal(kc_file_read("f", &data), 0);
    assert_int_equal(kc_file_write_atomic("f", "xyz", 3), 0);
    assert_memory_equal(CFDataGetBytePtr(data), "abc", 3);
    assert_int_equal(CFGetRetainCount(data), 1);
    CFRelease(data);
}

static void test_rename(void **state) {
    world *w = W(state);
    assert_int_equal(kc_file_write_atomic("a", "A", 1), 0);
    assert_int_equal(kc_file_rename("a", "b"), 0);
    assert_false(kc_file_exists("a"));
    EXPECT_FILE("b", "A");
    /* Replacing the target. */
    assert_int_equal(kc_file_write_atomic("c", "C", 1), 0);
    assert_int_equal(kc_file_rename("c", "b"), 0);
    assert_false(kc_file_exists("c"));
    EXPECT_FILE("b", "C");
    assert_int_equal(world_file_count(w), 1);
    /* Missing source: -ENOENT, target untouched. */
    assert_int_equal(kc_file_rename("missing", "b"), -ENOENT);
    EXPECT_FILE("b", "C");
    assert_false(kc_file_exists("missing"));
    /* Onto itself: nothing changes. */
    assert_int_equal(kc_file_rename("b", "b"), 0);
    EXPECT_FILE("b", "C");
    assert_int_equal(kc_file_rename("b", NULL), -EINVAL);
    assert_non_null(strstr(world_journal(w), "FileRename path=c to=b -> 0"));
}

static void test_unlink(void **state) {
    world *w = W(state);
    assert_int_equal(kc_file_write_atomic("x", "1", 1), 0);
    assert_int_equal(kc_file_write_atomic("y", "2", 1), 0);
    assert_int_equal(kc_file_unlink("x"), 0);
    assert_false(kc_file_exists("x"));
    assert_true(kc_file_exists("y"));
    assert_int_equal(kc_file_unlink("x"), -ENOENT);
    assert_int_equal(world_file_count(w), 1);
}

static void expect_list(const char *prefix, const char *const *want, size_t n, int line) {
    CFArrayRef paths = NULL;
    int st = kc_file_list(prefix, &paths);
    if (st != 0 || paths == NULL)
        fail_msg("line %d: kc_file_list(%s) = %d", line, prefix, st);
    if ((size_t)CFArrayGetCount(paths) != n)
        fail_msg("line %d: %ld paths under \"%s\", expected %zu", line,
                 (long)CFArrayGetCount(paths), prefix, n);
    for (size_t i = 0; i < n; i++) {
        char buf[128];
        CFStringRef s = CFArrayGetValueAtIndex(paths, (CFIndex)i);
        assert_true(CFStringGetCString(s, buf, sizeof buf, kCFStringEncodingUTF8));
        if (strcmp(buf, want[i]) != 0)
            fail_msg("line %d: path %zu is %s, expected %s", line, i, buf, want[i]);
    }
    CFRelease(paths);
}
#define EXPECT_LIST(prefix, ...)                                                                   \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__};                                          \
        expect_list((prefix), want_, sizeof want_ / sizeof want_[0] - 1, __LINE__);                \
    } while (0)

/* list: the paths starting with the prefix, sorted, whatever the write order. */
static void test_list_prefix_sorted(void **state) {
    world *w = W(state);
    static const char *const order[] = {
        "keys/sshenc/k2.pub", "keys/sshenc/k1.handle",          "keys/gitenc/a.handle",
        "keys/sshenc/k1.pub", "keys/sshenc-unsigned/k1.handle", "other"};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        assert_int_equal(kc_file_write_atomic(order[i], "x", 1), 0);
    EXPECT_LIST("keys/sshenc/", "keys/sshenc/k1.handle", "keys/sshenc/k1.pub", "keys/sshenc/k2.pub",
                NULL);
    EXPECT_LIST("keys/sshenc", "keys/sshenc-unsigned/k1.handle", "keys/sshenc/k1.handle",
                "keys/sshenc/k1.pub", "keys/sshenc/k2.pub", NULL);
    EXPECT_LIST("", "keys/gitenc/a.handle", "keys/sshenc-unsigned/k1.handle",
                "keys/sshenc/k1.handle", "keys/sshenc/k1.pub", "keys/sshenc/k2.pub", "other", NULL);
    EXPECT_LIST("nothing/", NULL);
    /* The inspection API sees the same order. */
    assert_int_equal(world_file_count(w), 6);
    assert_string_equal(world_file_path_at(w, 0), "keys/gitenc/a.handle");
    assert_string_equal(world_file_path_at(w, 5), "other");
    assert_null(world_file_path_at(w, 6));
    CFArrayRef paths = (CFArrayRef)(uintptr_t)1;
    assert_int_equal(kc_file_list(NULL, &paths), -EINVAL);
    assert_null(paths);
}

/* Inspection: world_file_put / get seed and read without a call or journal line. */
static void test_inspection_put_get(void **state) {
    world *w = W(state);
    size_t journal = world_journal_length(w);
    assert_int_equal(world_file_put(w, "keys/k1.meta", "{}", 2), 0);
    assert_int_equal(world_file_put(w, "keys/k0.meta", "[]", 2), 0);
    assert_true(world_file_exists(w, "keys/k1.meta"));
    size_t len = 0;
    const unsigned char *bytes = world_file_get(w, "keys/k1.meta", &len);
    assert_non_null(bytes);
    assert_int_equal(len, 2);
    assert_memory_equal(bytes, "{}", 2);
    assert_null(world_file_get(w, "keys/none", &len));
    assert_false(world_file_exists(w, "keys/none"));
    assert_int_equal(world_file_put(w, "keys/k1.meta", "{\"a\":1}", 7), 0);
    bytes = world_file_get(w, "keys/k1.meta", NULL);
    assert_memory_equal(bytes, "{\"a\":1}", 7);
    assert_int_equal(world_file_put(w, NULL, "x", 1), -EINVAL);
    assert_int_equal(world_file_put(w, "p", NULL, 1), -EINVAL);
    assert_int_equal(world_file_count(w), 2);
    assert_string_equal(world_file_path_at(w, 0), "keys/k0.meta");
    assert_int_equal(world_journal_length(w), journal);
    assert_int_equal(world_calls_total(w), 0);
    /* And kc_file_* sees what was put. */
    EXPECT_FILE("keys/k1.meta", "{\"a\":1}");
}

/* Every kc_file_* call is a counted, journaled call of the current process. */
static void test_file_calls_counted_and_journaled(void **state) {
    world *w = W(state);
    assert_int_equal(kc_file_write_atomic("k", "secret-bytes", 12), 0);
    assert_true(kc_file_exists("k"));
    CFDataRef data = NULL;
    assert_int_equal(kc_file_read("k", &data), 0);
    CFRelease(data);
    CFArrayRef list = NULL;
    assert_int_equal(kc_file_list("", &list), 0);
    CFRelease(list);
    assert_int_equal(kc_file_rename("k", "l"), 0);
    assert_int_equal(kc_file_unlink("l"), 0);
    assert_int_equal(world_calls_made(w, WORLD_API_FILE_WRITE), 1);
    assert_int_equal(world_calls_made(w, WORLD_API_FILE_READ), 3); /* exists, read, list */
    assert_int_equal(world_calls_made(w, WORLD_API_FILE_RENAME), 1);
    assert_int_equal(world_calls_made(w, WORLD_API_FILE_UNLINK), 1);
    const char *j = world_journal(w);
    assert_non_null(strstr(j, "call agent FileWrite path=k size=12 -> 0 ok\n"));
    assert_non_null(strstr(j, "call agent FileRead path=k exists -> 0 ok\n"));
    assert_non_null(strstr(j, "call agent FileUnlink path=l -> 0 ok\n"));
    /* File contents never reach the journal. */
    assert_null(strstr(j, "secret-bytes"));
}

/* Without an active world the calls fail cleanly. */
static void test_no_active_world(void **state) {
    (void)state;
    world_activate(NULL);
    CFDataRef data = NULL;
    CFArrayRef list = NULL;
    assert_int_equal(kc_file_write_atomic("a", "b", 1), -EINVAL);
    assert_int_equal(kc_file_read("a", &data), -EINVAL);
    assert_null(data);
    assert_false(kc_file_exists("a"));
    assert_int_equal(kc_file_rename("a", "b"), -EINVAL);
    assert_int_equal(kc_file_unlink("a"), -EINVAL);
    assert_int_equal(kc_file_list("", &list), -EINVAL);
    assert_null(list);
}

/* world_store_version moves with every change of a key file or an item
 * (plants too) and with nothing else: the checker skips re-reading a store
 * whose version it has seen. */
static void test_store_version(void **state) {
    world *w = W(state);
    assert_int_equal(world_device_boot(w), 0);
    assert_int_equal(world_device_unlock(w), 0); /* the login keychain too */
    uint64_t v = world_store_version(w);
#define CHANGED(expr)                                                                              \
    do {                                                                                           \
        expr;                                                                                      \
        assert_true(world_store_version(w) > v);                                                   \
        v = world_store_version(w);                                                                \
    } while (0)
#define SAME(expr)                                                                                 \
    do {                                                                                           \
        expr;                                                                                      \
        assert_true(world_store_version(w) == v);                                                  \
    } while (0)
    CHANGED(assert_int_equal(kc_file_write_atomic("keys/a", "1", 1), 0));
    CHANGED(assert_int_equal(kc_file_write_atomic("keys/a", "2", 1), 0)); /* replace */
    SAME(EXPECT_FILE("keys/a", "2"));
    SAME(assert_true(kc_file_exists("keys/a")));
    CHANGED(assert_int_equal(kc_file_rename("keys/a", "keys/b"), 0));
    SAME(assert_int_equal(kc_file_unlink("keys/missing"), -ENOENT));
    CHANGED(assert_int_equal(kc_file_unlink("keys/b"), 0));
    CHANGED(assert_int_equal(world_file_put(w, "keys/c", "x", 1), 0));
    CHANGED(assert_int_equal(add_item(false, "acct", "secret", NULL), errSecSuccess));
    SAME(assert_int_equal(read_data(false, "acct", "secret"), errSecSuccess));
    SAME(assert_int_equal(add_item(false, "acct", "again", NULL), errSecDuplicateItem));
    CHANGED(assert_int_equal(delete_item(false, "acct"), errSecSuccess));
    world_item_view pv = plant_view(WORLD_KEYCHAIN_FILE, "planted", "p");
    CHANGED(assert_int_equal(world_item_plant(w, &pv), 0));
#undef CHANGED
#undef SAME
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_read_replace, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_read_missing, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_read_returns_copy, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_rename, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_unlink, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_list_prefix_sorted, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_inspection_put_get, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_file_calls_counted_and_journaled, setup,
                                        world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_no_active_world, setup, world_fx_teardown),
        cmocka_unit_test_setup_teardown(test_store_version, setup, world_fx_teardown),
    };
    return cmocka_run_group_tests_name("world_files", tests, NULL, NULL);
}
