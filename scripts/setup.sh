#!/usr/bin/env bash
# Installs what building and testing Lianxin needs and is missing: the wasm32 target, and from
# Debian's packages gcc, Chromium and a CJK font. Nothing is downloaded but crates and Debian
# packages. Safe to run twice.
set -euo pipefail

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "error: missing Debian packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
