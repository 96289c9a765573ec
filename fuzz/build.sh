#!/usr/bin/env bash
# Builds the fuzz targets the OSS-Fuzz / ClusterFuzzLite way: the compiler,
# flags and fuzzing engine come from the environment, the results go to $OUT.
#
#   $CC                  C compiler (default clang)
#   $CFLAGS              sanitizer and coverage flags (default: ASan + UBSan +
#                        -fsanitize=fuzzer-no-link, as OSS-Fuzz sets them)
#   $LIB_FUZZING_ENGINE  the engine to link (default -fsanitize=fuzzer)
#   $OUT                 where the binaries go (default build/oss-fuzz/out)
#   $WORK                scratch (default build/oss-fuzz/work)
#
# For each target T (errmap ops ehw1 kcs) it writes $OUT/fuzz_T, its seed
# corpus $OUT/fuzz_T_seed_corpus.zip (fuzz/corpus/T), its dictionary
# $OUT/fuzz_T.dict and $OUT/fuzz_T.options. The project's own sources are
# compiled with $CFLAGS; OpenSSL (libcrypto) is linked from the system, as the
# base-builder image's libssl-dev provides it (see the Dockerfile lines below).
#
# OSS-Fuzz project files (projects/keyclass/), for reference:
#   Dockerfile:  FROM gcr.io/oss-fuzz-base/base-builder
#                RUN apt-get update && apt-get install -y libssl-dev
#                COPY . $SRC/keyclass
#                WORKDIR $SRC/keyclass
#                COPY fuzz/build.sh $SRC/
#   project.yaml: language: c, sanitizers: [address, undefined],
#                fuzzing_engines: [libfuzzer]
#   ClusterFuzzLite: .clusterfuzzlite/build.sh runs this script.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${CC:=clang}"
: "${CFLAGS:=-O1 -fno-omit-frame-pointer -gline-tables-only -fsanitize=address,undefined -fsanitize-address-use-after-scope -fno-sanitize-recover=all -fsanitize=fuzzer-no-link}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$root/build/oss-fuzz/out}"
: "${WORK:=$root/build/oss-fuzz/work}"
targets=(errmap ops ehw1 kcs)

# Our warnings, as the Makefile uses them; KEYCLASS_NO_WERROR=1 keeps them
# warnings (a newer compiler on the fuzzing infrastructure may find more).
warn="-std=c11 -Wall -Wextra -pedantic"
[ "${KEYCLASS_NO_WERROR:-0}" = 1 ] || warn="$warn -Werror"
cppflags="-D_POSIX_C_SOURCE=200809L -I$root/mocks/include -I$root/ref/include \
-I$root/scenarios/include -I$root/scenarios/src -I$root/fuzz \
$(pkg-config --cflags openssl 2>/dev/null || true)"
libs="$(pkg-config --libs openssl 2>/dev/null || echo -lcrypto)"

mkdir -p "$OUT" "$WORK/obj"
objs=()
while IFS= read -r src; do
    obj="$WORK/obj/$(echo "${src#"$root"/}" | tr '/' '_').o"
    # shellcheck disable=SC2086
    $CC $CFLAGS $warn $cppflags -c "$src" -o "$obj"
    objs+=("$obj")
done < <(find "$root/mocks/src" "$root/ref/src" "$root/scenarios/src" -name '*.c' \
    ! -name keyclass_main.c | sort; echo "$root/fuzz/common.c")
rm -f "$WORK/libkeyclass.a"
ar rcs "$WORK/libkeyclass.a" "${objs[@]}"

zip_dir() { # zip_dir DIR ZIP: the files of DIR, flat (zip(1) may be missing)
    python3 - "$1" "$2" <<'EOF'
import pathlib, sys, zipfile
src, dst = pathlib.Path(sys.argv[1]), sys.argv[2]
with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
    for p in sorted(src.iterdir()) if src.is_dir() else []:
        if p.is_file():
            z.write(p, p.name)
EOF
}

for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    $CC $CFLAGS $warn $cppflags -c "$root/fuzz/fuzz_$t.c" -o "$WORK/fuzz_$t.o"
    # shellcheck disable=SC2086
    $CC $CFLAGS $LIB_FUZZING_ENGINE "$WORK/fuzz_$t.o" "$WORK/libkeyclass.a" $libs -o "$OUT/fuzz_$t"
    zip_dir "$root/fuzz/corpus/$t" "$OUT/fuzz_${t}_seed_corpus.zip"
    cp "$root/fuzz/dict/$t.dict" "$OUT/fuzz_$t.dict"
    cp "$root/fuzz/options/fuzz_$t.options" "$OUT/fuzz_$t.options"
done
echo "fuzz/build.sh: ${#targets[@]} targets in $OUT"
