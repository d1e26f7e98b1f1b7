#!/usr/bin/env bash
# Runs every test of the workspace, browser tests included. Safe to run twice; installs only
# what is missing.
#
# What it needs on a fresh Debian machine: rustup's stable toolchain (1.95 or newer, see
# rust-version in Cargo.toml). It adds the wasm32 target, and from Debian's packages gcc (for
# the bundled SQLite), Chromium and a CJK font (for the browser tests and their screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh test

# The browser app, bundled into dist/ (the browser tests load it from there).
cargo run --locked -q -p xtask -- bundle
# One target directory; `cargo test` builds the binaries the tests run.
cargo test --workspace --exclude xtask --locked "$@"
