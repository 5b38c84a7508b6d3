# Sourced by .ci/run: a throwaway PostgreSQL cluster on loopback for the tests of
# portal-storage-postgres (and the two-node tests), in a temp folder, removed at the end.
#
# Installs Debian's `postgresql` if no server binaries are found (package scripts kept
# from starting the distribution's own cluster), then runs initdb and the server as an
# unprivileged user, because PostgreSQL refuses to run as root. Trust authentication on
# 127.0.0.1 only, for the role `portal`; fsync off (a test cluster that is thrown away).
# Exports PORTAL_TEST_POSTGRES_URL and PORTAL_REQUIRE_POSTGRES=1 (the tests then fail,
# instead of skipping, if the server is missing).

pg_dir=""
pg_bin=""
pg_user=""

# as_pg_user CMD...: runs CMD as the server's user (itself when not root), from /,
# since that user may not enter the checkout's owner-only folder.
as_pg_user() {
    if [[ $EUID -eq 0 ]]; then (cd / && runuser -u "$pg_user" -- "$@"); else "$@"; fi
}

start_postgres() {
    local port=$1
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [[ -z "$pg_bin" || ! -x "$pg_bin/initdb" ]]; then
        echo "installing Debian postgresql"
        local started=$SECONDS own_policy=""
        if [[ ! -e /usr/sbin/policy-rc.d ]]; then
            printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
            chmod 755 /usr/sbin/policy-rc.d
            own_policy=1
        fi
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql
        if [[ -n "$own_policy" ]]; then rm -f /usr/sbin/policy-rc.d; fi
        if command -v systemctl >/dev/null; then
            systemctl disable postgresql.service >/dev/null 2>&1 || true
        fi
        echo "postgresql installed in $((SECONDS - started)) s"
        pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    fi
    if [[ $EUID -eq 0 ]]; then
        pg_user=postgres
        if ! id -u "$pg_user" >/dev/null 2>&1; then
            pg_user=portalci
            id -u "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home "$pg_user"
        fi
    else
        pg_user=$(id -un)
    fi
    pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/portal-pg.XXXXXX")
    chmod 755 "$pg_dir"
    [[ $EUID -eq 0 ]] && chown "$pg_user" "$pg_dir"
    as_pg_user "$pg_bin/initdb" -D "$pg_dir/data" -A trust -U portal -E UTF8 --no-sync >/dev/null
    as_pg_user "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
        -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off" \
        start >/dev/null
    export PORTAL_TEST_POSTGRES_URL="postgresql://portal@127.0.0.1:$port/postgres"
    export PORTAL_REQUIRE_POSTGRES=1
    "$pg_bin/postgres" --version
    echo "PostgreSQL on 127.0.0.1:$port as $pg_user, data in $pg_dir"
}

stop_postgres() {
    if [[ -n "$pg_dir" ]]; then
        as_pg_user "$pg_bin/pg_ctl" -D "$pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$pg_dir"
        pg_dir=""
    fi
}
