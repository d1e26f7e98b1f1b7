#!/usr/bin/env bash
# Runs docs/nginx-lianxin.conf as it is (port and certificate paths replaced) in front of two
# real `lianxin serve` instances on a throwaway PostgreSQL, and shows through it: https with the
# office certificate, sign-in, a tablet syncing over the upgraded WebSocket, a change made
# through one instance reaching a tablet whose connection nginx sent to the other, /metrics
# refused, and a tablet going on after one instance is killed. Installs Debian's nginx when
# missing. Not part of scripts/test.sh (docs/deploy.md).
#
#   cargo build --release -p lianxin-server --bin lianxin && scripts/nginx-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$PWD/target/release/lianxin"
[ -x "$bin" ] || { echo "build it first: cargo build --release -p lianxin-server --bin lianxin" >&2; exit 1; }
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null
fi
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
source scripts/postgres.sh
work="$(mktemp -d /tmp/lianxin-nginx.XXXXXX)"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
    rm -rf "$work"
    pg_stop
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

psql "$LIANXIN_TEST_POSTGRES" -qc "CREATE DATABASE nginx_check"
export LIANXIN_DATABASE="${LIANXIN_TEST_POSTGRES%/*}/nginx_check"
"$bin" admin --data "$work/a" tls init --name lianxin.test --ip 127.0.0.1 >/dev/null
a_port=$(free_port); b_port=$(free_port); port=$(free_port)
"$bin" serve --data "$work/a" --listen "127.0.0.1:$a_port" --demo --demo-cases 20 >"$work/a.log" 2>&1 & pids+=($!)
sleep 2
"$bin" serve --data "$work/b" --listen "127.0.0.1:$b_port" >"$work/b.log" 2>&1 & pids+=($!)
sleep 1

mkdir -p "$work/nginx/logs"
sed -e "s/127.0.0.1:8081/127.0.0.1:$a_port/; s/127.0.0.1:8082/127.0.0.1:$b_port/" \
    -e "s/listen 443 ssl/listen 127.0.0.1:$port ssl/" \
    -e "s#/etc/lianxin/tls/server.pem#$work/a/tls/server.pem#; s#/etc/lianxin/tls/server.key#$work/a/tls/server-key.pem#" \
    docs/nginx-lianxin.conf >"$work/nginx/lianxin.conf"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx/logs/error.log;
events { worker_connections 256; }
http {
    access_log $work/nginx/logs/access.log;
    client_body_temp_path $work/nginx/body;
    proxy_temp_path $work/nginx/proxy;
    include $work/nginx/lianxin.conf;
}
CONF
"$nginx_bin" -t -q -p "$work/nginx" -c "$work/nginx/nginx.conf"
"$nginx_bin" -p "$work/nginx" -c "$work/nginx/nginx.conf"
url="https://127.0.0.1:$port"
ca="$work/a/tls/ca.pem"

check() { echo "ok: $*"; }
fail() { echo "FAILED: $*" >&2; tail -20 "$work/nginx/logs/error.log" >&2 || true; exit 1; }

[ "$(curl -s --cacert "$ca" -o /dev/null -w '%{http_code}' "$url/metrics")" = 403 ] || fail "/metrics through nginx"
check "/metrics is refused through nginx"
dev() { local home=$1; shift; "$bin" device --home "$work/$home" "$@"; }
echo lianxin-demo | dev one login "$url" mediator --ca "$ca" >/dev/null || fail "sign-in through nginx"
echo lianxin-demo | dev two login "$url" mediator2 --ca "$ca" >/dev/null || fail "sign-in through nginx"
check "two tablets signed in over https through nginx"
id="$(dev one case new --unit longxi --channel visit --summary '经由 nginx 登记的案件' | tail -1)"
dev one sync >/dev/null || fail "sync through nginx"
for i in 1 2 3 4; do
    dev one case note "$id" "经由 nginx 的第${i}次记录" && dev one sync >/dev/null || fail "sync $i"
    dev two sync >/dev/null || fail "the other tablet's sync $i"
    dev two export >"$work/export.json"
    grep -q "经由 nginx 的第${i}次记录" "$work/export.json" || fail "note $i did not reach the other tablet"
done
check "four notes went through nginx and reached the other tablet"
served_a=$(grep -c "sync session opened" "$work/a.log" || true)
served_b=$(grep -c "sync session opened" "$work/b.log" || true)
[ "$served_a" -gt 0 ] && [ "$served_b" -gt 0 ] || fail "nginx did not use both instances ($served_a, $served_b)"
check "nginx spread the sync connections over both instances ($served_a and $served_b)"
kill -9 "${pids[0]}"
for i in 1 2 3; do
    dev one case note "$id" "实例停止后的第${i}次记录" && dev one sync >/dev/null || fail "sync after one instance died"
done
dev two sync >/dev/null
dev two export >"$work/export.json"
grep -q "实例停止后的第3次记录" "$work/export.json" || fail "after one instance died"
check "with one instance killed, the tablets went on through the other"
echo "nginx check passed"
