#!/usr/bin/env bash
# Installs (when missing), starts and stops a local ClickHouse server as a
# plain process with the project's own config: loopback only, config, logs
# and pid under .run/clickhouse (git ignores .run/), tables in memory where
# the machine allows (see tables). Every action is idempotent.
#
#   dev/clickhouse.sh install|start|stop|drop|status
#
# Ports: CLICKHOUSE_TCP_PORT (default 9000), CLICKHOUSE_HTTP_PORT (8123),
# CLICKHOUSE_INTERSERVER_PORT (9009). Files: CLICKHOUSE_DIR; tables:
# CLICKHOUSE_DATA. CPU priority: CLICKHOUSE_NICE (10; see start).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${CLICKHOUSE_DIR:-$top/.run/clickhouse}
tcp=${CLICKHOUSE_TCP_PORT:-9000}
http=${CLICKHOUSE_HTTP_PORT:-8123}
inter=${CLICKHOUSE_INTERSERVER_PORT:-9009}
pidfile=$dir/clickhouse.pid
nice=${CLICKHOUSE_NICE:-10}

# tables prints the directory the server keeps its tables in:
# CLICKHOUSE_DATA if set; else $dir/data, which (unless CLICKHOUSE_DIR was
# given: then everything goes under it) is made a link to a directory of
# /dev/shm of its own where that is a tmpfs with 4 GiB free. A checkout's
# link, and so its tables, go with its .run/ (make clean, drop); a fresh clone
# starts with none, as it starts with no broker log. A directory already
# there (tables kept on disk before) is used as it is.
#
# Why memory: each insert and each merge writes a part of its own, two
# files a column, and this server's parts live seconds to minutes (the
# tests make and drop a database each, and merges replace parts). Where
# the disk's ext4 has no journal, as on the machine the benchmarks ran
# on, the kernel makes each file only after checking the inodes deleted
# lately one by one: profiled at half the catch-up rate, a quarter of the
# server's CPU went there, and more as a run went on. With its tables in
# memory the server took a quarter to a third less CPU, and the probes of
# need to suggestions waited less (docs/performance.md, "Latency at half
# the catch-up rate"). Tables in memory are lost when the machine
# restarts (the link is then made anew); the migrations (make migrate,
# make demo) make them again.
tables() {
  if [ -n "${CLICKHOUSE_DATA:-}" ]; then
    echo "$CLICKHOUSE_DATA"
    return
  fi
  local link=$dir/data
  if [ -z "${CLICKHOUSE_DIR:-}" ] && { [ -L "$link" ] || [ ! -e "$link" ]; } &&
      [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] &&
      [ "$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')" -ge $((4 * 1024 * 1024)) ]; then
    if [ ! -d "$link" ]; then # no link yet, or one left dangling by a restart
      mkdir -p "$dir"
      ln -sfn "$(mktemp -d /dev/shm/everywhere-clickhouse-XXXXXX)" "$link"
    fi
  fi
  echo "$link"
}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install() {
  if command -v clickhouse-server >/dev/null && command -v clickhouse-client >/dev/null; then
    return 0
  fi
  echo "installing clickhouse-server and clickhouse-client (Debian packages)" >&2
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq clickhouse-server clickhouse-client >/dev/null
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

answers() { clickhouse-client --port "$tcp" --query "SELECT 1" >/dev/null 2>&1; }

start() {
  case "$nice" in
    [0-9] | 1[0-9]) ;;
    *) echo "CLICKHOUSE_NICE must be a whole number from 0 to 19, got '$nice'" >&2; return 2 ;;
  esac
  install
  if running && answers; then
    echo "clickhouse already running on 127.0.0.1:$tcp (pid $(cat "$pidfile"))" >&2
    return 0
  fi
  # A server this script did not start already answers on the port: a
  # system service (Debian's package may start one) or another
  # checkout's. Ours could not bind the port, so that one is used, with
  # a warning: should it be broken (its data directory deleted, so that
  # every CREATE fails with "File not found"), the warning names the cause.
  if answers; then
    echo "warning: a ClickHouse server this script did not start answers on 127.0.0.1:$tcp;" >&2
    echo "using it (not the tables in $dir/data). Stop it, or set CLICKHOUSE_TCP_PORT and" >&2
    echo "CLICKHOUSE_HTTP_PORT to free ports, to run the project's own." >&2
    return 0
  fi
  data=$(tables)
  mkdir -p "$dir"/{tmp,user_files,format_schemas,log,etc} "$data"
  rm -f "$pidfile"
  sed -e "s#@DIR@#$dir#g" -e "s#@DATA@#$data#g" -e "s#@TCP_PORT@#$tcp#g" -e "s#@HTTP_PORT@#$http#g" \
      -e "s#@INTERSERVER_PORT@#$inter#g" "$top/dev/clickhouse/config.xml.in" >"$dir/etc/config.xml"
  cp "$top/dev/clickhouse/users.xml" "$dir/etc/users.xml"
  # setsid detaches the server from the caller's session so that it outlives
  # make; the inner shell records its own pid and then becomes the server.
  #
  # The server runs at a low CPU priority (CLICKHOUSE_NICE, 10 by default;
  # 0 for none): on this machine it shares two cores with the broker and
  # the engine, and an insert is a burst of work on several threads. The
  # kernel shares the CPU between sessions first (autogroups), so a server
  # in a session of its own took half the machine during each insert, and
  # the need and transaction paths waited behind it: at 60,000 events/s
  # need -> suggestions had a p99 1.6 times as long (a median of 216 ms
  # in eleven runs, against 133 at nice 19, alternating). At nice 10
  # the server gets about a tenth of a busy machine, enough for its
  # inserts to keep up with a catch-up; at 19 (a seventieth) they fell
  # behind, the partitions waited for them, and the catch-up was slower.
  # The idle scheduling class (chrt --idle) did no better
  # (docs/performance.md, "Latency at half the catch-up rate").
  # The session's priority is set where the kernel has autogroups, and
  # the process's where it has not.
  setsid bash -c 'echo $$ >"$1"; echo "$3" >/proc/self/autogroup 2>/dev/null || true; cd "$2"
      exec nice -n "$3" clickhouse-server --config-file="$2/etc/config.xml"' \
      _ "$pidfile" "$dir" "$nice" >"$dir/log/stdout.log" 2>&1 </dev/null &
  for _ in $(seq 1 150); do
    # The pid file appears as the server starts (it was removed above):
    # once it names a process that is gone, the server has exited.
    if [ -s "$pidfile" ] && ! running; then
      break
    fi
    if answers; then
      echo "clickhouse up on 127.0.0.1:$tcp (tables in $data$([ -L "$data" ] && echo " -> $(readlink "$data")"), logs in $dir/log)" >&2
      return 0
    fi
    sleep 0.2
  done
  if running; then
    echo "clickhouse did not answer on 127.0.0.1:$tcp within 30 s; see $dir/log/" >&2
  else
    echo "clickhouse exited as it started (a port in use?); see $dir/log/" >&2
  fi
  tail -n 20 "$dir/log/error.log" "$dir/log/stdout.log" >&2 2>/dev/null || true
  return 1
}

stop() {
  if ! running; then
    rm -f "$pidfile"
    return 0
  fi
  pid=$(cat "$pidfile")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; echo "clickhouse stopped" >&2; return 0; }
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# drop stops the server and deletes the tables of $dir/data, and the
# directory of /dev/shm it links to, which would outlive the checkout (CI
# drops a fresh clone's). CLICKHOUSE_DATA is never deleted: it names
# tables kept elsewhere on purpose.
drop() {
  stop
  if [ -L "$dir/data" ]; then
    rm -rf "$(readlink "$dir/data")"
  fi
  rm -rf "$dir/data"
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  drop) drop ;;
  status) if running && answers; then echo "running (pid $(cat "$pidfile"), port $tcp)"; else echo "not running"; exit 1; fi ;;
  *) echo "usage: $0 install|start|stop|drop|status" >&2; exit 2 ;;
esac
