#!/usr/bin/env bash
# docs/deploy.md's backup and restore, run: a demo county on a throwaway PostgreSQL, a tablet
# adds a note, pg_dump while the server runs, pg_restore into a new database, a server on the
# restored database, and a new tablet finds the note there. Not part of scripts/test.sh.
#
#   cargo build --release -p lianxin-server --bin lianxin && scripts/backup-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/target/release/lianxin"
source scripts/postgres.sh
work="$(mktemp -d /tmp/lianxin-backup.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; pg_stop; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
server="${LIANXIN_TEST_POSTGRES%/*}"
psql "$LIANXIN_TEST_POSTGRES" -qc "CREATE DATABASE lianxin"
port=$(free_port)
LIANXIN_DATABASE="$server/lianxin" "$bin" serve --data "$work/a" --listen "127.0.0.1:$port" --demo --demo-cases 50 >"$work/a.log" 2>&1 & pids+=($!)
sleep 2
dev() { local home=$1; shift; "$bin" device --home "$work/$home" "$@"; }
echo lianxin-demo | dev one login "http://127.0.0.1:$port" mediator >/dev/null
id="$(dev one case new --unit longxi --channel visit --summary '备份之前登记的案件' | tail -1)"
dev one case note "$id" "备份之前的走访记录"
dev one sync >/dev/null
pg_dump --format=custom --file "$work/lianxin.dump" "$server/lianxin"   # while it serves
echo "ok: pg_dump while serving: $(du -h "$work/lianxin.dump" | cut -f1)"
psql "$LIANXIN_TEST_POSTGRES" -qc "CREATE DATABASE lianxin_restored"
pg_restore --no-owner --dbname "$server/lianxin_restored" "$work/lianxin.dump"
port2=$(free_port)
LIANXIN_DATABASE="$server/lianxin_restored" "$bin" serve --data "$work/b" --listen "127.0.0.1:$port2" >"$work/b.log" 2>&1 & pids+=($!)
sleep 2
echo lianxin-demo | dev two login "http://127.0.0.1:$port2" mediator2 >/dev/null
dev two sync >/dev/null
dev two export >"$work/export.json"
grep -q "备份之前的走访记录" "$work/export.json" || { echo "FAILED: the note is not in the restored database" >&2; exit 1; }
echo "ok: restored into a new database; a new tablet syncs the note from it"
echo "backup check passed"
