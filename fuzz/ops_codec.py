"""The byte form of fuzz/fuzz_ops.c's programs, for seeds: encodes a `.kcs`
scenario of the library into an input that the ops target decodes back into
(nearly) the same program. Statements the ops target cannot express
(expectations, mark, most knobs) are dropped; labels are renamed in order of
appearance to k1..k3 (planted ones to old1/old2); scenarios with more than
three processes are skipped. Keep in step with decode_program / decode_statement
in fuzz/fuzz_ops.c.
"""
import re
import shlex
import struct

STATUSES = {
    "errSecSuccess": 0, "errSecUnimplemented": -4, "errSecParam": -50, "errSecAllocate": -108,
    "errSecUserCanceled": -128, "errSecNotAvailable": -25291, "errSecAuthFailed": -25293,
    "errSecDuplicateItem": -25299, "errSecItemNotFound": -25300, "errSecNoSuchAttr": -25303,
    "errSecNoDefaultKeychain": -25307, "errSecInteractionNotAllowed": -25308,
    "errSecInteractionRequired": -25315, "errSecDecode": -26275,
    "errSecMissingEntitlement": -34018, "LAErrorAuthenticationFailed": -1,
    "LAErrorUserCancel": -2, "LAErrorUserFallback": -3, "LAErrorSystemCancel": -4,
    "LAErrorPasscodeNotSet": -5, "LAErrorAppCancel": -9, "LAErrorInvalidContext": -10,
    "LAErrorNotInteractive": -1004,
}
# fuzz_ops.c: statuses[24]
STATUS_TABLE = [0, -4, -50, -108, -128, -25291, -25293, -25299, -25300, -25303, -25307, -25308,
                -25315, -26275, -34018, -1, -2, -3, -5, -9, -10, -1004, -25308, -25300]
APIS = ["SecItemAdd", "SecItemCopyMatching", "SecItemUpdate", "SecItemDelete",
        "SecAccessControlCreateWithFlags", "LAEvaluatePolicy", "SEGenerate", "SESign",
        "SEDelete", "SEPublicKey", "SecKeychain", "FileWrite", "FileRead", "FileRename",
        "FileUnlink", "FileLock", "FileUnlock"]
CLASSES = ["WhenUnlocked", "WhenUnlockedThisDeviceOnly", "AfterFirstUnlock",
           "AfterFirstUnlockThisDeviceOnly", "WhenPasscodeSetThisDeviceOnly", "Always",
           "AlwaysThisDeviceOnly"]
DURATIONS_MS = [1, 500, 1000, 9000, 11000, 61000, 301000, 7200000]
ANSWERS = ["approve", "cancel", "fail", "absent"]
AUTHS = ["none", "any", "biometry", "passcode"]
PRESENCES = ["none", "strict", "cached"]

OP_GENERATE, OP_SIGN, OP_LOAD, OP_PUBKEY, OP_RENAME, OP_DELETE = 12, 15, 19, 21, 22, 24
OP_EVICT, OP_RESTART, OP_REBUILD, OP_PLANT = 26, 27, 28, 29
PARALLEL_KINDS = {"generate": 0, "sign": 1, "load": 2, "rename": 3, "delete": 4}


def status_value(text):
    if text in STATUSES:
        return STATUSES[text]
    try:
        v = int(text)
    except ValueError:
        return None
    return v if -2**31 <= v < 2**31 else None


def duration_ms(text):
    m = re.fullmatch(r"\+?(\d+)(ms|s|m|h)", text)
    if not m:
        return None
    return int(m.group(1)) * {"ms": 1, "s": 1000, "m": 60000, "h": 3600000}[m.group(2)]


def nearest_duration(text):
    ms = duration_ms(text) or 1000
    return min(range(len(DURATIONS_MS)), key=lambda i: abs(DURATIONS_MS[i] - ms))


def options(words):
    return dict(w.split("=", 1) for w in words if "=" in w)


def encode_status(value):
    if value in STATUS_TABLE:
        return bytes([STATUS_TABLE.index(value)])
    return bytes([200]) + struct.pack("<i", value)


class Encoder:
    def __init__(self):
        self.procs = []      # names, in declaration order
        self.labels = {}     # scenario label -> index 0..2 (k1..k3)
        self.planted = {}    # scenario label -> 0..1 (old1, old2)

    def label_byte(self, label):
        if label in self.planted:
            return 6 + self.planted[label]
        if label not in self.labels:
            if len(self.labels) >= 3:
                return 0
            self.labels[label] = len(self.labels)
        return self.labels[label]

    def op(self, kind, words):
        """Operand bytes of one operation (after the proc byte); None if it
        cannot be expressed."""
        opts = options(words)
        args = [w for w in words if "=" not in w]
        if kind in ("restart", "rebuild"):
            return bytes([0])
        if not args:
            return None
        lab = args[0]
        if kind == "generate":
            auth = opts.get("auth", "none")
            a = 0 if auth == "none" else 4 + AUTHS.index(auth)
            p = PRESENCES.index(opts.get("presence", "none"))
            return bytes([self.label_byte(lab), a, p])
        if kind == "sign":
            if "ttl" in opts:
                return bytes([self.label_byte(lab), 5, nearest_duration(opts["ttl"])])
            if "presence" in opts:
                return bytes([self.label_byte(lab), PRESENCES.index(opts["presence"])])
            return bytes([self.label_byte(lab), 3])
        if kind in ("load", "pubkey", "delete", "evict"):
            return bytes([self.label_byte(lab)])
        if kind == "rename":
            if len(args) < 2:
                return None
            return bytes([self.label_byte(lab), self.label_byte(args[1])])
        if kind == "plant":
            if lab in self.labels or len(self.planted) >= 2 and lab not in self.planted:
                return None
            which = self.planted.setdefault(lab, len(self.planted))
            cls = CLASSES.index(opts.get("accessible", "WhenUnlockedThisDeviceOnly"))
            auth = AUTHS.index(opts.get("auth", "none"))
            if opts.get("handle") == "plaintext":
                flags = 1 | (auth << 1)
            else:
                flags = (2 if opts.get("presence") == "yes" else 0) | (auth << 2)
            return bytes([0, which, cls, flags])
        return None


def encode_scenario(text):
    """The ops input for one scenario's text, or None."""
    enc = Encoder()
    lines = []
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip()
        if line.startswith("#") or not line:
            continue
        lines.append(line)
    if not lines or not lines[0].startswith("scenario"):
        return None
    proc_cfg = []
    knobs = 0
    body = bytearray()
    started_boot = False
    in_parallel = None
    for line in lines[1:]:
        try:
            words = shlex.split(line, posix=False)
        except ValueError:
            continue
        head = words[0]
        if head == "process":
            if len(enc.procs) >= 3:
                return None
            o = options(words[2:])
            i = len(enc.procs)
            enc.procs.append(words[1])
            c = 0
            if o.get("signed") == "no":
                c |= 1
            g = o.get("group", "none")
            c |= (0 if g == "none" else 1 if g == "TEAMID.com.example.sshenc" else 3) << 1
            if o.get("gui") == "no":
                c |= 8
            if o.get("wrap-presence") == "no":
                c |= 16
            ttl = duration_ms(o.get("cache-ttl", "300s"))
            c |= {300000: 0, 0: 1, 1000: 2}.get(ttl, 3) << 5
            if (i == 0 and o.get("home-override") == "yes") or (i > 0 and o.get("app", "sshenc") != "sshenc"):
                c |= 0x80
            proc_cfg.append(c)
            continue
        if head == "knob":
            k = words[1]
            if k == "lock_grace=0" or k == "lock_grace=0s":
                knobs |= 1
            elif k.startswith("se_available=0") or k == "se_available=off":
                knobs |= 6
            elif k.startswith("se_reuse_requires_when_unlocked=0"):
                knobs |= 8
            elif k.startswith("se_when_unlocked_unusable_while_locked=0"):
                knobs |= 16
            continue
        if head == "device":
            ev = words[1]
            if ev == "boot" and not started_boot:
                started_boot = True
                continue
            code = {"reboot": 5, "unlock": 1, "lock": 2, "sleep": 3, "wake": 4}.get(ev)
            if code is not None:
                body += bytes([0, 0, code])
            elif ev in ("passcode", "biometry"):
                body += bytes([0, 0, 6 if ev == "passcode" else 7, 1 if words[2] == "on" else 0])
            continue
        if head == "clock":
            body += bytes([2, 0, nearest_duration(words[1])])
            continue
        if head == "keychain":
            k = {"lock": 0, "unlock": 1}.get(words[1])
            if k is None:
                k = 2 if words[-1] == "on" else 3
            body += bytes([4, 0, k])
            continue
        if head == "user":
            if words[1] == "default":
                body += bytes([5, 0, 0x80 | ANSWERS.index(words[2])])
            else:
                n = 1
                if len(words) > 2 and words[2].startswith("x") and words[2][1:].isdigit():
                    n = min(3, int(words[2][1:]))
                body += bytes([5, 0, ANSWERS.index(words[1]) | ((n - 1) << 2)])
            continue
        if head == "fault":
            kind = words[1]
            if kind in ("lose-class-key", "destroy-class-key"):
                c = CLASSES.index(words[2])
                body += bytes([9, 0, (c << 3) | (0 if kind == "destroy-class-key" else 1)])
                continue
            if kind == "crash":
                if words[2] not in enc.procs:
                    continue
                o = options(words)
                nth = min(3, int(o.get("nth", "1")))
                body += bytes([10, enc.procs.index(words[2]), APIS.index(words[4]), nth - 1])
                continue
            if kind not in APIS:
                continue
            st = status_value(words[2])
            if st is None:
                continue
            o = options(words[3:])
            nth = min(3, int(o.get("nth", "1")))
            times = o.get("times", "1")
            t = 3 if times == "always" else 2 if times != "1" else 0
            proc = enc.procs.index(o["proc"]) + 1 if o.get("proc") in enc.procs else 0
            body += bytes([6, 0, APIS.index(kind)]) + encode_status(st) + bytes([nth - 1, t, proc])
            continue
        if head == "parallel":
            in_parallel = []
            continue
        if head == "end" and in_parallel is not None:
            ops = in_parallel[:3]
            if len(ops) >= 2:
                body += bytes([11, 0, len(ops) - 2])
                for proc, kind, operands in ops:
                    body += bytes([proc, PARALLEL_KINDS[kind]]) + operands
            in_parallel = None
            continue
        if head.endswith(":") and head[:-1] in enc.procs:
            proc = enc.procs.index(head[:-1])
            words = words[1:]
            if "->" in words:
                words = words[:words.index("->")]
            if not words:
                continue
            kind = words[0]
            operands = enc.op(kind, words[1:])
            if operands is None:
                continue
            if in_parallel is not None:
                if kind in PARALLEL_KINDS:
                    in_parallel.append((proc, kind, operands))
                continue
            code = {"generate": OP_GENERATE, "sign": OP_SIGN, "load": OP_LOAD,
                    "pubkey": OP_PUBKEY, "rename": OP_RENAME, "delete": OP_DELETE,
                    "evict": OP_EVICT, "restart": OP_RESTART, "rebuild": OP_REBUILD,
                    "plant": OP_PLANT}.get(kind)
            if code is not None:
                body += bytes([code, proc]) + operands
    if not enc.procs or not body:
        return None
    h0 = (len(enc.procs) - 1) | 0x10  # the program's own `device unlock` follows
    cfg = (proc_cfg + [0, 0, 0])[:3]
    return bytes([h0] + cfg + [knobs]) + bytes(body)
