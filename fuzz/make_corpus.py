#!/usr/bin/env python3
"""Regenerates the seed corpora of the fuzz targets (fuzz/corpus/<target>/)
from the scenario library (scenarios/**/*.kcs). Deterministic: the same
library gives the same files. Run from anywhere: `make fuzz-corpus` or
`python3 fuzz/make_corpus.py`.

  kcs     one file per scenario of the library (its text, as written), plus
          a few malformed edge cases
  errmap  one 12-byte record per `fault <api> <status>` of the library, with
          every operation (load, sign, generate, rename, delete, migration)
  ops     the library's single-process scenarios encoded as ops programs
          (fuzz/ops_codec.py: the statements the ops target can express)
  ehw1    magic / truncated / legacy blobs and round-trip records
"""
import hashlib
import pathlib
import re
import struct
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "fuzz"))

import ops_codec  # noqa: E402

CORPUS = ROOT / "fuzz" / "corpus"
LIBRARY = ROOT / "scenarios"


def library_scenarios():
    """(path, name, text) for every scenario of the library, in path order."""
    out = []
    for path in sorted(LIBRARY.rglob("*.kcs")):
        if "found" in path.relative_to(LIBRARY).parts[:1]:
            continue
        text = path.read_text(encoding="utf-8")
        chunks = re.split(r"(?m)^(?=\s*scenario\s)", text)
        for chunk in chunks:
            m = re.match(r"\s*scenario\s+(\S+)", chunk)
            if m:
                out.append((path, m.group(1), chunk))
    return out


def write(target, data: bytes):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    (d / name).write_bytes(data)


def reset(target):
    """Empties a corpus folder, except the regressions kept by crash2kcs.sh
    (found-*): those stay seeds for good."""
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    for p in d.iterdir():
        if p.is_file() and not p.name.startswith("found-"):
            p.unlink()


def kcs_corpus(scenarios):
    reset("kcs")
    for _, _, text in scenarios:
        write("kcs", text.encode())
    for edge in [b"", b"\n", b"scenario\n", b"scenario a\nscenario a\n",
                 b"scenario a\nparallel\n", b"scenario a\nprocess p\np: sign k -> any\r\n",
                 b"scenario a\nexpect last-error p contains \"x\\\"y\"\n",
                 b"scenario a\nclock +100001h\n", b"scenario a\nuser approve x10001\n"]:
        write("kcs", edge)


# The errmap record: see fuzz/fuzz_errmap.c (decode_case).
ERRMAP_OPS = 6  # load, sign, generate, rename, delete, migration
APIS = ["SecItemAdd", "SecItemCopyMatching", "SecItemUpdate", "SecItemDelete",
        "SecAccessControlCreateWithFlags", "LAEvaluatePolicy", "SEGenerate", "SESign",
        "SEDelete", "SEPublicKey", "SecKeychain", "FileWrite", "FileRead", "FileRename",
        "FileUnlink", "FileLock", "FileUnlock"]


def errmap_corpus(scenarios):
    reset("errmap")
    pairs = set()
    for _, _, text in scenarios:
        for m in re.finditer(r"(?m)^\s*fault\s+(\w+)\s+(\S+)", text):
            api, status = m.group(1), m.group(2)
            if api not in APIS:
                continue
            value = ops_codec.status_value(status)
            if value is not None:
                pairs.add((APIS.index(api), value))
    for api, value in sorted(pairs):
        for op in range(ERRMAP_OPS):
            for gui in (0, 1):
                # status, flags (gui, group, presence), api, op, nth, auth
                flags = gui | 2 | 4
                write("errmap", struct.pack("<iBBBBBBBB", value, flags, api, op, 0, 0, 0, 0, 0))


def ops_corpus(scenarios):
    reset("ops")
    for _, name, text in scenarios:
        data = ops_codec.encode_scenario(text)
        if data is not None:
            write("ops", data)


def ehw1_corpus():
    reset("ehw1")
    key = bytes(range(32))
    write("ehw1", b"\x00" + key + b"EHW1" + bytes(12) + b"ct" + bytes(16))
    write("ehw1", b"\x00" + key + b"EHW1" + bytes(8))
    write("ehw1", b"\x00" + key + b"legacy handle bytes")
    for n in (0, 1, 65, 300):
        write("ehw1", b"\x01" + key + bytes(range(12)) + bytes([n % 256, 0x80]) +
              bytes((i * 7) % 256 for i in range(n)))


def main():
    scenarios = library_scenarios()
    kcs_corpus(scenarios)
    errmap_corpus(scenarios)
    ops_corpus(scenarios)
    ehw1_corpus()
    for t in ("kcs", "errmap", "ops", "ehw1"):
        print(f"fuzz/corpus/{t}: {len(list((CORPUS / t).iterdir()))} files")


if __name__ == "__main__":
    main()
