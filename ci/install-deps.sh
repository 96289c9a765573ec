#!/usr/bin/env bash
# Installs every Debian package keyclass needs. Idempotent: packages already
# present are left alone, so a second run changes nothing and is fast.
set -euo pipefail

PACKAGES=(
    gcc clang make pkg-config
    libcmocka-dev libssl-dev
    lcov
    python3 python3-pytest python3-hypothesis
    libclang-rt-dev
    graphviz
)

if [ "$(uname -s)" = "Darwin" ]; then
    # macOS (the GitHub workflow): Homebrew for libraries, pip for pytest.
    brew_pkgs=(cmocka openssl@3 lcov pkg-config graphviz)
    for pkg in "${brew_pkgs[@]}"; do
        brew list --versions "$pkg" >/dev/null 2>&1 || brew install "$pkg"
    done
    python3 -c 'import pytest, hypothesis' 2>/dev/null ||
        python3 -m pip install --user pytest hypothesis
    exit 0
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages: ${missing[*]}" >&2
    echo "install-deps: run as root:  $cmd" >&2
    exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
