#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: `source scripts/postgres.sh` makes a cluster with
# initdb in a temporary directory, starts it on a free port of 127.0.0.1, exports
# LIANXIN_TEST_POSTGRES (its address) and stops and deletes it when the calling script exits.
# Debian's postgresql package is installed when initdb is missing. As root, the cluster runs
# as the postgres user (PostgreSQL refuses to run as root).
#
#   scripts/postgres.sh -- CMD...   runs CMD with a cluster up, then stops it.

pg_bin=""
find_pg() {
    for d in /usr/lib/postgresql/*/bin; do
        if [ -x "$d/initdb" ]; then pg_bin="$d"; fi
    done
    if [ -z "$pg_bin" ] && command -v initdb >/dev/null 2>&1; then
        pg_bin="$(dirname "$(readlink -f "$(command -v initdb)")")"
    fi
}
find_pg
if [ -z "$pg_bin" ]; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
        find_pg
    fi
    if [ -z "$pg_bin" ]; then
        echo "error: PostgreSQL is missing; install it with: sudo apt-get install postgresql" >&2
        exit 1
    fi
fi

pg_as=()
pg_dir="$(mktemp -d /tmp/lianxin-pg.XXXXXX)"
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$pg_dir"
    pg_as=(runuser -u postgres --)
fi
pg_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"${pg_as[@]}" "$pg_bin/initdb" -D "$pg_dir/data" -U lianxin --auth=trust --no-locale -E UTF8 >"$pg_dir/initdb.log"
"${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w \
    -o "-p $pg_port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=64MB" \
    start >/dev/null
pg_stop() {
    "${pg_as[@]}" "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$pg_dir"
}
trap pg_stop EXIT
export LIANXIN_TEST_POSTGRES="postgres://lianxin@127.0.0.1:$pg_port/postgres"
echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on port $pg_port (stopped at the end)"

if [ "${1:-}" = "--" ]; then
    shift
    "$@"
fi
