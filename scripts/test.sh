#!/usr/bin/env bash
# The test command: installs what is missing, builds (type-checks), runs every test with
# Node's test runner. Extra arguments are test files to run instead of all (one lane).
#
# All of them run in two lanes side by side, each one file at a time: the files that use the
# lab (one shared replica: its session lock would make them wait for each other anyway, and
# most of their time is spent waiting on timeouts) and all the others. Each lane's output is
# kept in artifacts/test-LANE.log and printed whole when both are done; the exit code is
# non-zero when either failed. Ctrl-C (or TERM) stops both lanes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p artifacts
run() { node --import tsx --test --test-reporter=spec --test-concurrency=1 "$@"; }
if [ "$#" -gt 0 ]; then run "$@"; exit; fi

mapfile -t all < <(find test -name '*.test.ts' | sort)
# A file is in the lab lane when it brings the lab up (useLab, labUp), runs `flowtrace demo`
# or `flowtrace lab …` commands that change it, injects faults, or reads what the fault
# matrix leaves in artifacts/ (follow-live-*.json: after it, as in one lane).
mapfile -t lab < <(grep -lE "useLab\(|labUp\(|injectFault\(|healFault\(|'demo'|'lab', '(up|down|fault|heal|exec|wait)'|follow-live-" "${all[@]}")
mapfile -t others < <(printf '%s\n' "${all[@]}" | grep -vxF -f <(printf '%s\n' "${lab[@]}"))

pids=()
# Ctrl-C reaches each lane's whole process group, as it would a single run in the terminal;
# node's test runner then ends the test files without their after() hooks, so what they had
# built is removed here: the lab when it was not up before the tests (`lab down`: its
# processes by their recorded PIDs), the tests' own namespaces (prefix ftt) with the
# processes inside them (by the PIDs `ip netns pids` lists there), and the sshd tests' users.
lab_was_up=0; ip netns list 2>/dev/null | grep -q '^ft-' && lab_was_up=1
stop() {
  trap - INT TERM
  for p in "${pids[@]}"; do kill -INT -- "-$p" 2>/dev/null || true; done
  wait || true
  if [ "$lab_was_up" -eq 0 ] && ip netns list 2>/dev/null | grep -q '^ft-'; then node bin/flowtrace.js lab down >&2 || true; fi
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep '^ftt' || true); do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  # The real-sshd tests' users, sudoers drop-ins and key directories (test/helpers/sshd.ts).
  for u in $(cut -d: -f1 /etc/passwd | grep '^fttssh-' || true); do userdel -f "$u" 2>/dev/null || true; done
  rm -rf /etc/sudoers.d/fttssh-* /run/fttssh-*
  echo "tests interrupted: lanes stopped, what they had built removed" >&2
  exit 130
}
trap stop INT TERM
start=$(date +%s)
set -m # each lane in its own process group, so that stop() ends a lane's children too
run "${lab[@]}" > artifacts/test-lab.log 2>&1 & pids+=($!)
run "${others[@]}" > artifacts/test-others.log 2>&1 & pids+=($!)
set +m
codes=()
for p in "${pids[@]}"; do if wait "$p"; then codes+=(0); else codes+=($?); fi; done
for lane in lab others; do echo "===== lane: $lane (artifacts/test-$lane.log)"; cat "artifacts/test-$lane.log"; done
echo "===== lanes: lab ${#lab[@]} files exit ${codes[0]}, others ${#others[@]} files exit ${codes[1]}, $(( $(date +%s) - start )) s"
[ "${codes[0]}" -eq 0 ] && [ "${codes[1]}" -eq 0 ]
