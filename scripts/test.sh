#!/usr/bin/env bash
# Runs every test of the workspace, browser tests included. Safe to run twice; installs only
# what is missing.
#
# What it needs on a fresh Debian machine: rustup's stable toolchain (1.95 or newer, see
# rust-version in Cargo.toml). It adds the wasm32 target, and from Debian's packages gcc (for
# the bundled SQLite), Chromium and a CJK font (for the browser tests and their screenshots),
# and PostgreSQL (a throwaway cluster in a temporary directory, stopped at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test

# The browser app, bundled into dist/ (the browser tests load it from there).
cargo run --locked -q -p xtask -- bundle
# One target directory; `cargo test` builds the binaries the tests run.
# A throwaway PostgreSQL for the tests of several instances (server/tests/postgres.rs) and the
# second pass below; stopped and deleted when this script ends.
source scripts/postgres.sh
cargo test --workspace --exclude xtask --locked "$@"
# The storage and sync suites again, every server of them on PostgreSQL.
if [ $# -eq 0 ]; then
    LIANXIN_TEST_STORE=postgres cargo test --locked -p lianxin-server \
        --test sync --test durability --test roles --test privacy --test bad_input \
        --test limits --test attachments --test reference --test ledger --test reports
fi
