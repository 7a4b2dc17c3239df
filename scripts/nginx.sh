#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a private nginx on 127.0.0.1 (a free port) for the demo and the tests.
#   scripts/nginx.sh start <state dir> <document root>   prints the port, writes <state dir>/port
#   scripts/nginx.sh stop <state dir>
set -euo pipefail

cmd=${1:-}
state=${2:-}
[ -n "$cmd" ] && [ -n "$state" ] || { echo "usage: $0 start|stop <state dir> [<docroot>]" >&2; exit 2; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop() {
    if [ -f "$state/nginx.pid" ]; then
        pid=$(cat "$state/nginx.pid" 2>/dev/null || true)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -QUIT "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        rm -f "$state/nginx.pid"
    fi
    rm -f "$state/port"
}

case "$cmd" in
stop)
    stop
    ;;
start)
    root=$(cd "${3:?document root}" && pwd)
    mkdir -p "$state"
    state=$(cd "$state" && pwd)
    stop
    user_line=""
    [ "$(id -u)" -eq 0 ] && user_line="user root root;"
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        cat > "$state/nginx.conf" <<CONF
$user_line
worker_processes 2;
daemon on;
pid $state/nginx.pid;
error_log $state/error.log warn;
events { worker_connections 1024; }
http {
    access_log $state/access.log;
    client_body_temp_path $state/tmp;
    proxy_temp_path $state/tmp;
    fastcgi_temp_path $state/tmp;
    uwsgi_temp_path $state/tmp;
    scgi_temp_path $state/tmp;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$port;
        root $root;
        location / { }
        # Throttled, so that tests can watch and interrupt a transfer in flight.
        location /slow/ { limit_rate 2m; }
        location /status/ {
            location = /status/500 { return 500; }
            location = /status/503 { return 503; }
            location = /status/403 { return 403; }
            return 404;
        }
    }
}
CONF
        mkdir -p "$state/tmp"
        if nginx -p "$state" -c "$state/nginx.conf" -e "$state/error.log" 2>>"$state/error.log"; then
            for _ in $(seq 50); do
                if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
                    echo "$port" > "$state/port"
                    echo "$port"
                    exit 0
                fi
                sleep 0.1
            done
        fi
        stop
    done
    echo "nginx.sh: could not start nginx; see $state/error.log" >&2
    exit 1
    ;;
*)
    echo "usage: $0 start|stop <state dir> [<docroot>]" >&2
    exit 2
    ;;
esac
