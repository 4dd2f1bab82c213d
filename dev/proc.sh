#!/usr/bin/env bash
# Starts and stops the demo's background processes (broker, engine) with a
# pid file and a log under .run/, idempotently.
#
#   dev/proc.sh start NAME CMD [ARGS...]   start unless running
#   dev/proc.sh stop NAME                  SIGTERM, wait up to 15 s, then SIGKILL
#   dev/proc.sh wait-port HOST:PORT [SECONDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
run=$top/.run
mkdir -p "$run"

running() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

case "${1:-}" in
  start)
    name=$2; shift 2
    if running "$name"; then
      echo "$name already running (pid $(cat "$run/$name.pid"))" >&2
      exit 0
    fi
    setsid "$@" >"$run/$name.log" 2>&1 </dev/null &
    echo $! >"$run/$name.pid"
    echo "$name started (pid $!, log .run/$name.log)" >&2
    ;;
  stop)
    name=$2
    if ! running "$name"; then rm -f "$run/$name.pid"; exit 0; fi
    pid=$(cat "$run/$name.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
      kill -0 "$pid" 2>/dev/null || { rm -f "$run/$name.pid"; echo "$name stopped" >&2; exit 0; }
      sleep 0.1
    done
    echo "$name did not stop within 15 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$run/$name.pid"
    ;;
  wait-port)
    hp=$2; secs=${3:-30}
    for _ in $(seq 1 $((secs * 10))); do
      if (exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}") 2>/dev/null; then exit 0; fi
      sleep 0.1
    done
    echo "nothing answers on $hp after $secs s" >&2
    exit 1
    ;;
  *) echo "usage: $0 start NAME CMD... | stop NAME | wait-port HOST:PORT [SECONDS]" >&2; exit 2 ;;
esac
