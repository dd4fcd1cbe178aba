#!/usr/bin/env bash
# Install, start, stop a throw-away OpenLink Virtuoso server on 127.0.0.1 for mlkg's tests.
#
#   bash scripts/virtuoso.sh install   # apt-get install virtuoso-opensource (noninteractive)
#   bash scripts/virtuoso.sh start     # install if missing, start, wait, print the endpoint URL
#   bash scripts/virtuoso.sh status    # print the endpoint URL if running (exit 1 if not)
#   bash scripts/virtuoso.sh url       # same as status, URL only
#   bash scripts/virtuoso.sh stop      # stop it and remove its folder
#
# Environment:
#   MLKG_VIRTUOSO_DIR   state folder (database, ini, pid, ports); default /tmp/mlkg-virtuoso.
#                       Several instances can run side by side with different folders.
#   MLKG_VIRTUOSO_BUFFERS  NumberOfBuffers (8 KiB pages kept in memory); default 100000 (~800 MB).
#
# The server is Debian's `virtuoso-t +foreground` run from a copy of /etc/virtuoso-opensource-7/
# virtuoso.ini whose database files live in the state folder and whose SQL and HTTP ports are
# free ports bound to 127.0.0.1. A fresh database has the user dba with password dba, which the
# digest-authenticated endpoints use:
#   query      http://127.0.0.1:PORT/sparql                  (anonymous, read-only)
#   update     http://127.0.0.1:PORT/sparql-auth             (digest auth, dba/dba)
#   GSP        http://127.0.0.1:PORT/sparql-graph-crud-auth  (digest auth, dba/dba)
set -euo pipefail

DIR="${MLKG_VIRTUOSO_DIR:-/tmp/mlkg-virtuoso}"
INI_SRC=/etc/virtuoso-opensource-7/virtuoso.ini
BUFFERS="${MLKG_VIRTUOSO_BUFFERS:-100000}"
PYTHON="${PYTHON:-python3}"

log() { echo "virtuoso.sh: $*" >&2; }

install() {
    if command -v virtuoso-t >/dev/null 2>&1 && command -v isql-vt >/dev/null 2>&1; then
        return 0
    fi
    log "installing virtuoso-opensource (Debian)"
    local sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    # The package asks for a DBA password through debconf; preseed it (our own database in the
    # state folder starts with dba/dba anyway).
    printf '%s\n' \
        "virtuoso-opensource-7 virtuoso-opensource-7/dba-password password dba" \
        "virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password dba" \
        | $sudo debconf-set-selections
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        -o DPkg::Lock::Timeout=600 virtuoso-opensource
    # Debian's package may try to start its own service; we never use it.
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

running() {
    [ -f "$DIR/virtuoso.pid" ] && kill -0 "$(cat "$DIR/virtuoso.pid")" 2>/dev/null
}

endpoint() {
    echo "http://127.0.0.1:$(cat "$DIR/http.port")/sparql"
}

start() {
    install
    if running; then
        log "already running (pid $(cat "$DIR/virtuoso.pid"))"
        endpoint
        return 0
    fi
    rm -rf "$DIR"
    mkdir -p "$DIR/db"
    local sql_port http_port
    sql_port="$(free_port)"
    http_port="$(free_port)"
    while [ "$http_port" = "$sql_port" ]; do http_port="$(free_port)"; done
    echo "$sql_port" >"$DIR/sql.port"
    echo "$http_port" >"$DIR/http.port"
    # A copy of Debian's ini: database files in $DIR/db, ports on 127.0.0.1 only.
    sed -e "s#/var/lib/virtuoso-opensource-7/db/#$DIR/db/#g" \
        -e "/^\[Parameters\]/,/^\[/ s#^ServerPort *=.*#ServerPort = 127.0.0.1:$sql_port#" \
        -e "/^\[HTTPServer\]/,/^\[/ s#^ServerPort *=.*#ServerPort = 127.0.0.1:$http_port#" \
        -e "s#^DirsAllowed *=.*#DirsAllowed = ., $DIR, /usr/share/virtuoso-opensource-7/vad#" \
        -e "s#^NumberOfBuffers *= *10000\b.*#NumberOfBuffers = $BUFFERS#" \
        -e "s#^MaxDirtyBuffers *= *6000\b.*#MaxDirtyBuffers = $((BUFFERS * 3 / 4))#" \
        "$INI_SRC" >"$DIR/virtuoso.ini"
    (cd "$DIR/db" && exec virtuoso-t +foreground +configfile "$DIR/virtuoso.ini" \
        >"$DIR/virtuoso.out" 2>&1) &
    echo $! >"$DIR/virtuoso.pid"
    local url deadline
    url="$(endpoint)"
    deadline=$((SECONDS + 120))
    until curl -fsS -o /dev/null --max-time 5 "$url?query=ASK%20%7B%7D" 2>/dev/null; do
        if ! running; then
            log "virtuoso-t exited; its log:"
            tail -n 30 "$DIR/virtuoso.out" "$DIR/db/virtuoso.log" >&2 2>/dev/null || true
            exit 1
        fi
        if [ $SECONDS -ge $deadline ]; then
            log "no answer from $url after 120 s"
            stop
            exit 1
        fi
        sleep 0.5
    done
    log "running (pid $(cat "$DIR/virtuoso.pid")), SQL on 127.0.0.1:$sql_port"
    echo "$url"
}

status() {
    if running; then
        endpoint
    else
        log "not running"
        return 1
    fi
}

stop() {
    if running; then
        local pid
        pid="$(cat "$DIR/virtuoso.pid")"
        # A clean shutdown through SQL first; then TERM; then KILL.
        isql-vt "127.0.0.1:$(cat "$DIR/sql.port")" dba dba exec="shutdown;" \
            >/dev/null 2>&1 || kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
        log "stopped (pid $pid)"
    fi
    # Only remove a folder that this script made.
    if [ -f "$DIR/virtuoso.ini" ] || [ -d "$DIR/db" ]; then
        rm -rf "$DIR"
    fi
}

case "${1:-}" in
    install) install ;;
    start) start ;;
    status | url) status ;;
    stop) stop ;;
    *)
        echo "usage: $0 install|start|status|url|stop" >&2
        exit 2
        ;;
esac
