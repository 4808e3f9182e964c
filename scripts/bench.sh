#!/usr/bin/env bash
# npm run bench: builds, then runs every benchmark; results go to bench/out/ and the table
# in BENCHMARKS.md is rewritten from them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p bench/out
exec node dist/bench/run.js "$@"
