#!/usr/bin/env bash
# Installs and starts an S3-compatible test server (moto's server, from PyPI) on loopback,
# in the background, for the portal-blob-s3 tests:
#
#   bash portal-blob-s3/tests/start-s3.sh PORT PIDFILE
#   PORTAL_TEST_S3_URL=http://127.0.0.1:PORT cargo test -p portal-blob-s3
#   kill "$(cat PIDFILE)"
#
# moto keeps everything in memory: nothing is left on disk when it stops. It is installed
# into its own virtualenv (MOTO_VENV, default ~/.cache/portal-moto-venv), so nothing of the
# system's Python changes. The script returns once the server answers, or fails after 60 s.
set -euo pipefail

port="${1:?usage: start-s3.sh PORT PIDFILE}"
pidfile="${2:?usage: start-s3.sh PORT PIDFILE}"
venv="${MOTO_VENV:-$HOME/.cache/portal-moto-venv}"
log="${MOTO_LOG:-${pidfile%.pid}.log}"

if [ ! -x "$venv/bin/moto_server" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]>=5,<6'
fi

if curl -fs -o /dev/null "http://127.0.0.1:$port/"; then
    echo "port $port is in use already: pick another" >&2
    exit 1
fi

nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
echo $! >"$pidfile"

for _ in $(seq 1 120); do
    if curl -fs -o /dev/null "http://127.0.0.1:$port/" && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "moto S3 server on http://127.0.0.1:$port (pid $(cat "$pidfile"), log $log)"
        exit 0
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        echo "the moto server exited; its log:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.5
done
echo "the moto server did not answer on port $port within 60 s; its log:" >&2
cat "$log" >&2
exit 1
