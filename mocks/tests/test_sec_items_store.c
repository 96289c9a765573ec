/* The item store seen through the world's inspection and seeding API
 * (keyclass/world.h): count/at in insertion order, find by primary key,
 * plant (no call, no journal, no mutation), mutation counting, and a
 * thousand-item store whose lookups stay correct through deletes and
 * renames. */
#include "test_sec_helpers.h"

static void test_plant_find_at(void **state) {
    fx *f = *state;
    size_t journal = world_journal_length(f->w);
    world_item_view v = {.keychain = WORLD_KEYCHAIN_DP,
                         .service = "svc",
                         .account = "acct",
                         .access_group = GROUP,
                         .accessible = WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY,
                         .has_access_control = true,
                         .ac_flags = WORLD_AC_USER_PRESENCE,
                         .data = (const unsigned char *)"0123",
                         .data_len = 4,
                         .creator = "someone",
                         .writes = 3};
    assert_int_equal(world_item_plant(f->w, &v), 0);
    assert_int_equal(world_item_plant(f->w, &v), -1); /* same primary key */
    assert_int_equal(world_item_count(f->w), 1);
    assert_int_equal(world_item_mutations(f->w), 0);
    assert_int_equal(world_journal_length(f->w), journal);
    assert_int_equal(world_calls_total(f->w), 0);
    world_item_view got;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, "svc", "acct", GROUP, &got));
    assert_string_equal(got.service, "svc");
    assert_string_equal(got.account, "acct");
    assert_string_equal(got.access_group, GROUP);
    assert_int_equal(got.accessible, WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY);
    assert_true(got.has_access_control);
    assert_int_equal(got.ac_flags, WORLD_AC_USER_PRESENCE);
    assert_int_equal(got.data_len, 4);
    assert_memory_equal(got.data, "0123", 4);
    assert_string_equal(got.creator, "someone");
    assert_int_equal(got.writes, 3);
    assert_false(world_item_find(f->w, WORLD_KEYCHAIN_DP, "svc", "acct", NULL, NULL));
    assert_false(world_item_find(f->w, WORLD_KEYCHAIN_FILE, "svc", "acct", NULL, NULL));
    assert_true(world_item_at(f->w, 0, &got));
    assert_false(world_item_at(f->w, 1, &got));
    /* Another group is another item. */
    v.access_group = "OTHER";
    assert_int_equal(world_item_plant(f->w, &v), 0);
    /* A bad view is refused. */
    v.accessible = (world_class)99;
    assert_int_equal(world_item_plant(f->w, &v), -1);
}

static void test_file_plant_drops_group(void **state) {
    fx *f = *state;
    world_item_view v = {.keychain = WORLD_KEYCHAIN_FILE,
                         .service = "svc",
                         .account = "acct",
                         .access_group = "IGNORED",
                         .accessible = WORLD_CLASS_WHEN_UNLOCKED};
    assert_int_equal(world_item_plant(f->w, &v), 0);
    world_item_view got;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_FILE, "svc", "acct", NULL, &got));
    assert_null(got.access_group);
    assert_int_equal(got.data_len, 0);
}

static void test_mutations_count_writes(void **state) {
    fx *f = *state;
    assert_int_equal(add_item(true, "k1", "x", NULL), errSecSuccess);
    assert_int_equal(world_item_mutations(f->w), 1);
    assert_int_equal(add_item(true, "k1", "x", NULL), errSecDuplicateItem);
    assert_int_equal(read_data(true, "k1", "x"), errSecSuccess);
    assert_int_equal(world_item_mutations(f->w), 1);
    assert_int_equal(delete_item(true, "k1"), errSecSuccess);
    assert_int_equal(world_item_mutations(f->w), 2);
    assert_int_equal(world_item_count(f->w), 0);
}

static void test_thousand_items(void **state) {
    fx *f = *state;
    enum { N = 1000 };
    char acct[32];
    for (int i = 0; i < N; i++) {
        snprintf(acct, sizeof acct, "key-%04d", i);
        assert_int_equal(add_item(i % 2, acct, acct, NULL), errSecSuccess);
    }
    assert_int_equal(world_item_count(f->w), N);
    for (int i = 0; i < N; i++) {
        world_item_view v;
        assert_true(world_item_at(f->w, (size_t)i, &v));
        snprintf(acct, sizeof acct, "key-%04d", i);
        assert_string_equal(v.account, acct);
        assert_int_equal(v.keychain, i % 2 ? WORLD_KEYCHAIN_DP : WORLD_KEYCHAIN_FILE);
    }
    /* Delete every third; the rest are found and stay in order. */
    for (int i = 0; i < N; i += 3) {
        snprintf(acct, sizeof acct, "key-%04d", i);
        assert_int_equal(delete_item(i % 2, acct), errSecSuccess);
    }
    size_t expect = N - (N + 2) / 3;
    assert_int_equal(world_item_count(f->w), expect);
    size_t at = 0;
    for (int i = 0; i < N; i++) {
        snprintf(acct, sizeof acct, "key-%04d", i);
        if (i % 3 == 0) {
            assert_int_equal(read_data(i % 2, acct, NULL), errSecItemNotFound);
            continue;
        }
        assert_int_equal(read_data(i % 2, acct, acct), errSecSuccess);
        world_item_view v;
        assert_true(world_item_at(f->w, at++, &v));
        assert_string_equal(v.account, acct);
    }
    /* Rename one and find it under its new key only. */
    CFMutableDictionaryRef q = gp(true, SVC, "key-0001");
    CFMutableDictionaryRef a = dict_new();
    set_str(a, kSecAttrAccount, "renamed");
    assert_int_equal(SecItemUpdate(q, a), errSecSuccess);
    CFRelease(a);
    CFRelease(q);
    assert_int_equal(read_data(true, "renamed", "key-0001"), errSecSuccess);
    assert_int_equal(read_data(true, "key-0001", NULL), errSecItemNotFound);
    world_item_view v;
    assert_true(world_item_at(f->w, 0, &v));
    assert_string_equal(v.account, "renamed");
}

/* Items that share service and account (here: differing only in
 * kSecAttrSynchronizable, part of the primary key) keep insertion order:
 * world_item_find returns the first one planted. */
static void test_same_key_insertion_order(void **state) {
    fx *f = *state;
    world_item_view v = {.keychain = WORLD_KEYCHAIN_DP,
                         .service = "svc",
                         .account = "acct",
                         .access_group = GROUP,
                         .accessible = WORLD_CLASS_ALWAYS,
                         .synchronizable = true};
    assert_int_equal(world_item_plant(f->w, &v), 0);
    v.synchronizable = false;
    assert_int_equal(world_item_plant(f->w, &v), 0);
    world_item_view got;
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, "svc", "acct", GROUP, &got));
    assert_true(got.synchronizable);
    assert_int_equal(world_item_count(f->w), 2);
}

/* Items with no service or account are stored with empty strings. */
static void test_missing_service_and_account(void **state) {
    fx *f = *state;
    CFMutableDictionaryRef d = gp(true, NULL, NULL);
    set_data(d, kSecValueData, "x");
    assert_int_equal(SecItemAdd(d, NULL), errSecSuccess);
    assert_int_equal(SecItemAdd(d, NULL), errSecDuplicateItem);
    CFRelease(d);
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, "", "", GROUP, NULL));
    assert_true(world_item_find(f->w, WORLD_KEYCHAIN_DP, NULL, NULL, GROUP, NULL));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(test_plant_find_at),
        FX_TEST(test_file_plant_drops_group),
        FX_TEST(test_mutations_count_writes),
        FX_TEST(test_thousand_items),
        FX_TEST(test_same_key_insertion_order),
        FX_TEST(test_missing_service_and_account),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
