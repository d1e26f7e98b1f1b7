#!/usr/bin/env bash
# Runs every test of the workspace. Safe to run twice; installs only what is missing.
#
# What it needs on a fresh Debian machine: rustup's stable toolchain (1.95 or newer, see
# rust-version in Cargo.toml) and a C compiler for the bundled SQLite (gcc; installed from
# Debian's packages if absent and we are root).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cc >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq gcc libc6-dev
    else
        echo "error: a C compiler (gcc) is needed to build SQLite; install it with: sudo apt-get install gcc" >&2
        exit 1
    fi
fi

# One target directory, one build: `cargo test` builds the binaries the tests run.
cargo test --workspace --locked "$@"
