#!/usr/bin/env bash
# npm start — install dependencies when missing, build, and serve the cloud (extra args go to
# `stackbox serve`, e.g. `npm start -- --port 5001 --memory`).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/fastify ] || npm ci --no-audit --no-fund
npx tsc -p .
exec node dist/src/cli/main.js serve "$@"
