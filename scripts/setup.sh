#!/usr/bin/env bash
# Installs what infra-check's tests, demo and benchmarks need on a fresh
# Debian machine: Node.js >= 22 (from the npm registry when the system node is
# older), redis-server, PostgreSQL server binaries, openssl, xmllint,
# hyperfine, chromium; then npm dependencies and the build. Idempotent and quiet when
# everything is already there. Prints the PATH line to use for Node 24.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(node_major)" -lt 22 ]; then
  if [ ! -x "$HOME/.node24/bin/node" ]; then
    echo "setup: installing Node.js 24 into \$HOME/.node24 (system node is $(node --version 2>/dev/null || echo missing))" >&2
    npm install -g --prefix "$HOME/.node24" --allow-scripts=node node@24 >&2 || npm install -g --prefix "$HOME/.node24" node@24 >&2
  fi
  export PATH="$HOME/.node24/bin:$PATH"
fi

missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v openssl >/dev/null || missing+=(openssl)
command -v xmllint >/dev/null || missing+=(libxml2-utils)
command -v hyperfine >/dev/null || missing+=(hyperfine)
# Peer CLIs the full-run benchmark compares with (bench/full-run.bench.js).
command -v redis-cli >/dev/null || missing+=(redis-tools)
command -v psql >/dev/null || missing+=(postgresql-client)
command -v curl >/dev/null || missing+=(curl)
# Terminal layout (stacked table, live status line) is tested on a real terminal emulator (test/output/terminal.test.ts).
command -v tmux >/dev/null || missing+=(tmux)
# The status page of `infra-check serve` is tested in a real headless browser (test/serve/page.test.ts).
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "setup: apt-get install ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q "${missing[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${missing[@]}" >&2; }
    # Debian's postgresql package starts a cluster on 5432; the tests start their own.
    (command -v pg_ctlcluster >/dev/null && pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | while read -r v c; do pg_ctlcluster "$v" "$c" stop >/dev/null 2>&1 || true; done) || true
  else
    echo "setup: missing ${missing[*]} — install them with: sudo apt-get install -y ${missing[*]}" >&2
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
fi
npm run build --silent >&2
