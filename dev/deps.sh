#!/usr/bin/env bash
# Installs what the project needs on a Debian machine with Go: kcat (the
# independent Kafka client the tests publish with), ClickHouse, Prometheus
# (promtool) and the Go modules. Only what is missing is installed.
set -euo pipefail
need=()
command -v kcat >/dev/null || need+=(kcat)
command -v clickhouse-server >/dev/null || need+=(clickhouse-server)
command -v clickhouse-client >/dev/null || need+=(clickhouse-client)
command -v promtool >/dev/null || need+=(prometheus)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}" >&2
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get update -qq
  # The prometheus package's own service would start on 9090; it is not used.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
go mod download
