#!/usr/bin/env bash
# Make sure the services and tools the tests use are on this machine:
#   PostgreSQL at 127.0.0.1:5432, user `postgres`, no password (trust for 127.0.0.1)
#   Redis      at 127.0.0.1:6379
#   espeak-ng  (speech synthesis for the real-speech tests)
# Starts whatever is down, installs it with apt-get if it is missing, and exits non-zero
# with a clear message if a service still cannot be reached. Safe to run any number of times.
set -euo pipefail

PG_HOST=127.0.0.1
PG_PORT=5432
REDIS_HOST=127.0.0.1
REDIS_PORT=6379

say() { printf 'ensure_services: %s\n' "$*" >&2; }
die() { say "ERROR: $*"; exit 1; }

# Root for apt-get, pg_hba.conf and the Redis directories: run directly as root, else via sudo.
if [ "$(id -u)" -eq 0 ]; then
    AS_ROOT=()
elif command -v sudo >/dev/null 2>&1; then
    AS_ROOT=(sudo)
else
    AS_ROOT=()
fi
root() {
    if [ "$(id -u)" -ne 0 ] && [ "${#AS_ROOT[@]}" -eq 0 ]; then
        die "need root (or sudo) to run: $*"
    fi
    "${AS_ROOT[@]}" "$@"
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "$1 is not installed and apt-get is not available; install $1 yourself"
    if [ "$APT_UPDATED" -eq 0 ]; then
        say "apt-get update"
        root env DEBIAN_FRONTEND=noninteractive apt-get update -q || die "apt-get update failed"
        APT_UPDATED=1
    fi
    say "apt-get install -y $*"
    root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" || die "apt-get install $* failed"
}

wait_for() {  # wait_for SECONDS COMMAND...: true once COMMAND succeeds
    local deadline=$((SECONDS + $1))
    shift
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.5
    done
}

# ---------------------------------------------------------------- PostgreSQL
pg_accepting() { pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2; }
pg_login_ok() { psql -w -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1" >/dev/null 2>&1; }
pg_versions() { ls /etc/postgresql 2>/dev/null | sort -V; }

ensure_postgres() {
    if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! command -v pg_isready >/dev/null 2>&1; then
        say "PostgreSQL is not installed"
        apt_install postgresql
    fi
    if [ -z "$(pg_versions)" ]; then
        local version
        version="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)"
        [ -n "$version" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql"
        say "creating PostgreSQL cluster $version/main"
        root pg_createcluster --port "$PG_PORT" "$version" main || die "pg_createcluster $version main failed"
    fi
    if ! pg_accepting; then
        local version
        for version in $(pg_versions); do
            say "starting PostgreSQL cluster $version/main"
            root pg_ctlcluster --skip-systemctl-redirect "$version" main start \
                || say "pg_ctlcluster $version main start failed (see /var/log/postgresql/)"
        done
        wait_for 30 pg_accepting \
            || die "PostgreSQL is not accepting connections at $PG_HOST:$PG_PORT (see /var/log/postgresql/)"
    fi
    if ! pg_login_ok; then
        # The tests connect as postgres@127.0.0.1 without a password: trust local TCP logins.
        local version hba
        for version in $(pg_versions); do
            hba="/etc/postgresql/$version/main/pg_hba.conf"
            [ -f "$hba" ] || continue
            if ! root grep -Eq '^host[[:space:]]+all[[:space:]]+all[[:space:]]+127\.0\.0\.1/32[[:space:]]+trust' "$hba"; then
                say "trusting 127.0.0.1 and ::1 logins in $hba"
                root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
            fi
            root pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
        done
        wait_for 10 pg_login_ok \
            || die "PostgreSQL at $PG_HOST:$PG_PORT refuses user postgres without a password"
    fi
    say "PostgreSQL ok at $PG_HOST:$PG_PORT"
}

# --------------------------------------------------------------------- Redis
redis_ok() { [ "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

ensure_redis() {
    if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
        say "Redis is not installed"
        apt_install redis-server
    fi
    if ! redis_ok; then
        say "starting Redis at $REDIS_HOST:$REDIS_PORT"
        root mkdir -p /var/lib/redis /var/log/redis
        root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
            --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log \
            || die "redis-server failed to start (see /var/log/redis/ci.log)"
        wait_for 15 redis_ok \
            || die "Redis is not answering PING at $REDIS_HOST:$REDIS_PORT (see /var/log/redis/ci.log)"
    fi
    say "Redis ok at $REDIS_HOST:$REDIS_PORT"
}

# ------------------------------------------------------------- test tools
# espeak-ng speaks the callers of the real-speech tests (a second voice beside piper).
ensure_test_tools() {
    if ! command -v espeak-ng >/dev/null 2>&1; then
        say "espeak-ng is not installed"
        apt_install espeak-ng
    fi
    command -v espeak-ng >/dev/null 2>&1 || die "espeak-ng is still missing after apt-get install"
    say "espeak-ng ok"
}

ensure_postgres
ensure_redis
ensure_test_tools
