#!/usr/bin/env bash
# The test command: installs what is missing, builds (type-checks), runs every test with
# Node's test runner. Extra arguments are test files to run instead of all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p artifacts
if [ "$#" -gt 0 ]; then files=("$@"); else mapfile -t files < <(find test -name '*.test.ts' | sort); fi
exec node --import tsx --test --test-reporter=spec --test-concurrency=1 "${files[@]}"
