#!/usr/bin/env bash
# The main job on a fresh machine: installs what is missing, builds, runs `flowtrace demo`
# (build the lab, follow a request through it, print the verdict, write the report, tear down).
# Needs root (network namespaces). Extra arguments go to `flowtrace demo` (e.g. --fault dnat-missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node bin/flowtrace.js demo "$@"
