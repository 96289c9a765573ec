/* The device, its keybag (class-key availability, domain.md §3) and the
 * file-based login keychain's lock state. */
#include "world_state.h"

#include <string.h>

static const char *const device_state_names[] = {
    [WORLD_DEVICE_OFF] = "off",
    [WORLD_DEVICE_BEFORE_FIRST_UNLOCK] = "before-first-unlock",
    [WORLD_DEVICE_UNLOCKED] = "unlocked",
    [WORLD_DEVICE_LOCKED] = "locked",
};

const char *world_device_state_name(world_device_state s) {
    return (unsigned)s <= WORLD_DEVICE_LOCKED ? device_state_names[s] : "?";
}

world_device_state world_device_state_now(const world *w) { return w->device; }
bool world_device_asleep(const world *w) { return w->asleep; }
bool world_device_passcode(const world *w) { return w->passcode; }
bool world_device_biometry(const world *w) { return w->biometry; }
uint64_t world_lock_epoch(const world *w) { return w->lock_epoch; }

static int refuse(world *w, const char *event) {
    world_set_error(w, "device %s: not possible while the device is %s%s", event,
                    world_device_state_name(w->device), w->asleep ? " and asleep" : "");
    return -1;
}

int world_device_boot(world *w) {
    if (w->device != WORLD_DEVICE_OFF)
        return refuse(w, "boot");
    w->device = WORLD_DEVICE_BEFORE_FIRST_UNLOCK;
    w->asleep = false;
    w->first_unlock_done = false;
    w->login_locked = true;
    world_journal_event(w, "device boot");
    return 0;
}

int world_device_unlock(world *w) {
    if ((w->device != WORLD_DEVICE_BEFORE_FIRST_UNLOCK && w->device != WORLD_DEVICE_LOCKED) ||
        w->asleep)
        return refuse(w, "unlock");
    bool first = !w->first_unlock_done;
    w->device = WORLD_DEVICE_UNLOCKED;
    w->first_unlock_done = true;
    /* A lost class key comes back with the next unlock (the keybag is
     * unwrapped again from the passcode); a destroyed one never does. */
    memset(w->class_lost, 0, sizeof w->class_lost);
    /* The first unlock after boot logs the user in: the login keychain opens. */
    if (first)
        w->login_locked = false;
    world_journal_event(w, "device unlock%s", first ? " (first since boot)" : "");
    return 0;
}

int world_device_lock(world *w) {
    if (w->device != WORLD_DEVICE_UNLOCKED)
        return refuse(w, "lock");
    w->device = WORLD_DEVICE_LOCKED;
    w->locked_at_ms = w->now_ms;
    w->lock_epoch++;
    world_journal_event(w, "device lock");
    return 0;
}

int world_device_sleep(world *w) {
    if (w->device == WORLD_DEVICE_OFF || w->asleep)
        return refuse(w, "sleep");
    if (w->device == WORLD_DEVICE_UNLOCKED) {
        w->device = WORLD_DEVICE_LOCKED;
        w->locked_at_ms = w->now_ms;
        w->lock_epoch++;
    }
    w->asleep = true;
    if (w->login_lock_on_sleep)
        w->login_locked = true;
    world_journal_event(w, "device sleep%s",
                        w->login_lock_on_sleep ? " (login keychain locked)" : "");
    return 0;
}

int world_device_wake(world *w) {
    if (w->device == WORLD_DEVICE_OFF || !w->asleep)
        return refuse(w, "wake");
    w->asleep = false;
    world_journal_event(w, "device wake");
    return 0;
}

int world_device_reboot(world *w) {
    if (w->device == WORLD_DEVICE_OFF)
        return refuse(w, "reboot");
    w->device = WORLD_DEVICE_BEFORE_FIRST_UNLOCK;
    w->asleep = false;
    w->first_unlock_done = false;
    w->login_locked = true;
    w->lock_epoch++;
    world_journal_event(w, "device reboot");
    for (size_t i = 0; i < w->nprocs; i++)
        world_process_reset(w, (world_pid)i);
    return 0;
}

int world_device_set_passcode(world *w, bool on) {
    if (w->passcode == on)
        return 0;
    w->passcode = on;
    world_journal_event(w, "device passcode %s", on ? "on" : "off");
    /* Removing the passcode destroys the WhenPasscodeSet class key together
     * with every item of that class; setting a new one makes a new key. */
    if (!on)
        world_items_delete_class(w, WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY);
    return 0;
}

int world_device_set_biometry(world *w, bool on) {
    w->biometry = on;
    world_journal_event(w, "device biometry %s", on ? "on" : "off");
    return 0;
}

/* ---- Keybag -------------------------------------------------------------------- */

static const char *const class_names[WORLD_CLASS_COUNT] = {
    [WORLD_CLASS_WHEN_UNLOCKED] = "WhenUnlocked",
    [WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY] = "WhenUnlockedThisDeviceOnly",
    [WORLD_CLASS_AFTER_FIRST_UNLOCK] = "AfterFirstUnlock",
    [WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY] = "AfterFirstUnlockThisDeviceOnly",
    [WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY] = "WhenPasscodeSetThisDeviceOnly",
    [WORLD_CLASS_ALWAYS] = "Always",
    [WORLD_CLASS_ALWAYS_THIS_DEVICE_ONLY] = "AlwaysThisDeviceOnly",
};

const char *world_class_name(world_class c) {
    return (unsigned)c < WORLD_CLASS_COUNT ? class_names[c] : NULL;
}

int world_class_from_name(const char *name) {
    for (int i = 0; name != NULL && i < WORLD_CLASS_COUNT; i++)
        if (strcmp(name, class_names[i]) == 0)
            return i;
    return -1;
}

/* Unlocked, or locked less than the grace period ago. Without a passcode
 * there is nothing to lock the class keys with: they stay available. */
static bool unlocked_or_in_grace(const world *w) {
    if (!w->passcode)
        return true;
    if (w->device == WORLD_DEVICE_UNLOCKED)
        return true;
    return w->device == WORLD_DEVICE_LOCKED &&
           w->now_ms - w->locked_at_ms < w->knobs[WORLD_KNOB_LOCK_GRACE_MS];
}

bool world_class_key_available(const world *w, world_class c) {
    if ((unsigned)c >= WORLD_CLASS_COUNT || w->class_destroyed[c] || w->class_lost[c])
        return false;
    if (w->device == WORLD_DEVICE_OFF)
        return false;
    switch (c) {
    case WORLD_CLASS_ALWAYS:
    case WORLD_CLASS_ALWAYS_THIS_DEVICE_ONLY:
        return true;
    case WORLD_CLASS_AFTER_FIRST_UNLOCK:
    case WORLD_CLASS_AFTER_FIRST_UNLOCK_THIS_DEVICE_ONLY:
        return w->first_unlock_done || !w->passcode;
    case WORLD_CLASS_WHEN_UNLOCKED:
    case WORLD_CLASS_WHEN_UNLOCKED_THIS_DEVICE_ONLY:
        return unlocked_or_in_grace(w);
    case WORLD_CLASS_WHEN_PASSCODE_SET_THIS_DEVICE_ONLY:
        return w->passcode && unlocked_or_in_grace(w);
    default:
        return false;
    }
}

void world_fault_lose_class_key(world *w, world_class c) {
    if ((unsigned)c >= WORLD_CLASS_COUNT)
        return;
    w->class_lost[c] = true;
    world_journal_event(w, "fault lose-class-key %s", class_names[c]);
}

void world_fault_destroy_class_key(world *w, world_class c) {
    if ((unsigned)c >= WORLD_CLASS_COUNT)
        return;
    w->class_destroyed[c] = true;
    world_journal_event(w, "fault destroy-class-key %s", class_names[c]);
}

/* ---- Login keychain ----------------------------------------------------------- */

int world_login_keychain_lock(world *w) {
    w->login_locked = true;
    world_journal_event(w, "keychain lock");
    return 0;
}

int world_login_keychain_unlock(world *w) {
    if (w->device == WORLD_DEVICE_OFF) {
        world_set_error(w, "keychain unlock: the device is off");
        return -1;
    }
    w->login_locked = false;
    world_journal_event(w, "keychain unlock");
    return 0;
}

void world_login_keychain_set_lock_on_sleep(world *w, bool on) {
    w->login_lock_on_sleep = on;
    world_journal_event(w, "keychain lock-on-sleep %s", on ? "on" : "off");
}

bool world_login_keychain_locked(const world *w) { return w->login_locked; }
