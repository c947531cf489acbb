#!/usr/bin/env bash
# Run node ≥ 22: the system's when it is new enough, else the one
# scripts/setup.sh installed into ~/.node24 (these machines ship Node 20).
set -euo pipefail
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt 22 ]; then
  export PATH="$HOME/.node24/bin:$PATH"
fi
exec node "$@"
