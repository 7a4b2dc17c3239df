#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a private nginx on 127.0.0.1 (a free port) for the demo and the tests.
#   scripts/nginx.sh start <state dir> <document root>   prints the port, writes <state dir>/port
#       (and <state dir>/proxy_port: a forward proxy that answers itself; <state dir>/https_port:
#       the document root over https with a self-signed certificate for opendo-test.invalid;
#       <state dir>/cache_port: a cache host in the form Microsoft Connected Cache serves, see
#       below; <state dir>/dead_port: a free port nobody listens on, a cache host that is down)
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
    rm -f "$state/port" "$state/proxy_port" "$state/https_port" "$state/cache_port" \
        "$state/dead_port"
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
    # Basic credentials for /auth/ (nginx reads {PLAIN} passwords as they are). The second user
    # has names no log line could hold by chance: test_log looks for them.
    printf 'opendo:{PLAIN}secret\nh8-user-Vq7Kx:{PLAIN}h8-pass-Zr4Wm\n' > "$state/htpasswd"
    # A self-signed certificate whose name is not 127.0.0.1: unknown CA and wrong name at once.
    if [ ! -f "$state/server.crt" ] || [ ! -f "$state/server.key" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=opendo-test.invalid" \
            -keyout "$state/server.key" -out "$state/server.crt" 2>>"$state/error.log"
    fi
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        proxy_port=$(free_port)
        https_port=$(free_port)
        cache_port=$(free_port)
        dead_port=$(free_port)
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
    # The cache host's store, emptied at every start: a test counts what reached the origin.
    proxy_cache_path $state/cache levels=1:2 keys_zone=opendo_cache:4m max_size=1g inactive=1h
                     use_temp_path=off;
    server {
        listen 127.0.0.1:$port;
        root $root;
        location / { }
        # Throttled, so that tests can watch and interrupt a transfer in flight.
        location /slow/ { limit_rate 2m; }
        # The files again from a server that ignores Range: every answer is a 200.
        location /norange/ { alias $root/; max_ranges 0; }
        # The files again, throttled like /slow/.
        location /throttled/ { alias $root/; limit_rate 2m; }
        location /status/ {
            location = /status/500 { return 500; }
            location = /status/503 { return 503; }
            location = /status/403 { return 403; }
            return 404;
        }
        # The body is the X-OpenDO-Test request header: the downloaded bytes show what was sent.
        location = /echo/header { return 200 "\$http_x_opendo_test\n"; }
        # Files that exist only for requests that carry "X-OpenDO-Test: yes" (throttled).
        location /needs-header/ {
            alias $root/;
            limit_rate 2m;
            if (\$http_x_opendo_test != "yes") { return 403; }
        }
        # The files again, which the cache host answers with 502 (it is in trouble).
        location /cache-fails/ { alias $root/; }
        location /cache-corrupt/ { alias $root/; }
        # /redirect/<path> answers 302 to /<path>.
        location /redirect/ { rewrite ^/redirect/(.*)\$ /\$1 redirect; }
        # /to-localhost/<path> answers 302 to http://localhost:<port>/<path>: another origin
        # (another host name) for the same files.
        location /to-localhost/ {
            rewrite ^/to-localhost/(.*)\$ http://localhost:$port/\$1 redirect;
        }
        # The same with a relative Location.
        location /redirect-relative/ {
            absolute_redirect off;
            rewrite ^/redirect-relative/(.*)\$ /\$1 redirect;
        }
        # The files again, behind Basic authentication (user opendo, password secret).
        location /auth/ {
            alias $root/;
            auth_basic "OpenDO";
            auth_basic_user_file $state/htpasswd;
        }
        # The files again without Content-Length (chunked), as dynamic content comes.
        location /chunked/ {
            alias $root/;
            sub_filter_types *;
            sub_filter "@@opendo-no-such-text@@" "";
        }
    }
    # A forward proxy that answers every request itself, naming the URI it was asked for.
    server {
        listen 127.0.0.1:$proxy_port;
        # A log of its own: access.log tells what reached the origin server.
        access_log $state/proxy_access.log;
        location / { return 200 "proxied \$request_uri\n"; }
        # Behind proxy authentication: Basic proxyuser / proxypass.
        location /proxyauth/ {
            if (\$http_proxy_authorization != "Basic cHJveHl1c2VyOnByb3h5cGFzcw==") {
                add_header Proxy-Authenticate 'Basic realm="OpenDO proxy"' always;
                return 407;
            }
            return 200 "proxied with credentials \$request_uri\n";
        }
    }
    # A cache host: /PATH?Q&cacheHostOrigin=HOST:PORT is http://HOST:PORT/PATH?Q..., cached.
    # The slice module splits every file into 4 MiB slices, each fetched from the origin with a
    # Range request and cached on its own: ranged and whole requests alike are answered from the
    # slices, and proxy_cache_lock makes concurrent requests for a missing slice wait for the one
    # fetch of it. The origin is an IP:port (no resolver), reached on loopback only.
    server {
        listen 127.0.0.1:$cache_port;
        access_log $state/cache_access.log;
        location / {
            if (\$arg_cacheHostOrigin !~ "^127\.0\.0\.1:[0-9]+\$") { return 400; }
            slice 4m;
            proxy_cache opendo_cache;
            proxy_cache_key \$uri\$is_args\$args\$slice_range;
            proxy_set_header Range \$slice_range;
            proxy_http_version 1.1;
            proxy_cache_valid 200 206 1h;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 60s;
            # A slice that takes long (a loaded machine) is not fetched a second time, and one
            # whose client went away (a ranged part ended early) is still fetched to the end
            # and cached.
            proxy_cache_lock_age 60s;
            proxy_ignore_client_abort on;
            proxy_pass http://\$arg_cacheHostOrigin\$uri\$is_args\$args;
        }
        # A cache host in trouble: the origin serves these files (below), the cache fails.
        location /cache-fails/ { return 502; }
        # A cache host that serves another file than the origin's (4m-other.bin for any).
        location /cache-corrupt/ { proxy_pass http://\$arg_cacheHostOrigin/4m-other.bin; }
    }
    server {
        listen 127.0.0.1:$https_port ssl;
        ssl_certificate $state/server.crt;
        ssl_certificate_key $state/server.key;
        root $root;
        location / { }
    }
}
CONF
        mkdir -p "$state/tmp"
        rm -rf "$state/cache"
        if nginx -p "$state" -c "$state/nginx.conf" -e "$state/error.log" 2>>"$state/error.log"; then
            for _ in $(seq 50); do
                if python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
                    echo "$proxy_port" > "$state/proxy_port"
                    echo "$https_port" > "$state/https_port"
                    echo "$cache_port" > "$state/cache_port"
                    echo "$dead_port" > "$state/dead_port"
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
