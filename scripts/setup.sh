#!/usr/bin/env bash
# Installs what building Lianxin needs and is missing: the wasm32 target and gcc; with `test`,
# also Chromium, a CJK font and poppler's PDF tools for the browser tests. Nothing is downloaded but crates and
# Debian packages. Safe to run twice.
set -euo pipefail

rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
if [ "${1:-}" = test ]; then
    [ -x /usr/bin/chromium ] || missing+=(chromium)
    fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
    # The printed bulletin's PDF is turned into page images and read back as text.
    command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
fi
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "error: missing Debian packages: ${missing[*]}; install them with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi
