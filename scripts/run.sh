#!/usr/bin/env bash
# Builds Lianxin (server and browser app) and runs the server with its embedded SQLite database
# in ./data and, the first time, a demo county with demo accounts (password lianxin-demo) and a
# demo caseload. Safe to run twice: an existing ./data is used as it is.
#
#   scripts/run.sh                       # http://127.0.0.1:8080
#   LISTEN=0.0.0.0:8080 scripts/run.sh   # reachable from other machines — but a tablet gets
#                                        # offline storage only over https: see README,
#                                        # "On a county network" (extra arguments go to serve,
#                                        # e.g. --tls-cert data/tls/server.pem --tls-key …)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

cargo run --locked -q -p xtask -- bundle
cargo build --release --locked -p lianxin-server --bin lianxin
exec ./target/release/lianxin serve --data "${DATA:-data}" --listen "${LISTEN:-127.0.0.1:8080}" --app dist --demo "$@"
