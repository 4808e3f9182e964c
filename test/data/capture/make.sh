#!/usr/bin/env bash
# Re-creates the small captures in this folder with real tools (run as root; needs tcpdump,
# tshark/dumpcap, editcap, mergecap, curl, python3, iproute2). Traffic stays on loopback or
# inside the namespace fttcapture-gen, which is removed on exit. See README.md.
set -euo pipefail
cd "$(dirname "$0")"
PORT=18080
WORK=$(mktemp -d)
NS=fttcapture-gen
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# A tiny site for python's http.server (a body of a few hundred bytes).
mkdir -p "$WORK/site"
head -c 300 /dev/zero | tr '\0' 'x' > "$WORK/site/hello.txt"
(cd "$WORK/site" && exec python3 -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1) & PIDS+=($!)

# The server must answer before the captures start (and this probe is not captured).
curl -sf --retry 5 --retry-connrefused -o /dev/null "http://127.0.0.1:$PORT/hello.txt" || { echo "make.sh: the server on 127.0.0.1:$PORT did not answer (port busy?)" >&2; exit 1; }

# Four captures of the same traffic at once: µs pcap, ns pcap, snaplen-cut pcap, pcapng.
tcpdump -i lo -U -w "$WORK/lo.pcap" "tcp port $PORT" 2>/dev/null & PIDS+=($!)
tcpdump -i lo -U --time-stamp-precision=nano -w "$WORK/lo-nano.pcap" "tcp port $PORT" 2>/dev/null & PIDS+=($!)
tcpdump -i lo -U -s 80 -w "$WORK/lo-snap80.pcap" "tcp port $PORT" 2>/dev/null & PIDS+=($!)
dumpcap -q -i lo -f "tcp port $PORT" -w "$WORK/lo.pcapng" 2>/dev/null & PIDS+=($!)
sleep 2
curl -s -o /dev/null -H 'X-Amzn-Trace-Id: Root=1-67891233-abcdef012345678912345678' "http://127.0.0.1:$PORT/hello.txt"
curl -s -o /dev/null "http://127.0.0.1:$PORT/missing"
sleep 1
for pid in "${PIDS[@]:1}"; do kill -INT "$pid"; wait "$pid" || true; done
PIDS=("${PIDS[0]}")
cp "$WORK/lo.pcap" http-lo.pcap
cp "$WORK/lo-nano.pcap" http-lo-nano.pcap
cp "$WORK/lo-snap80.pcap" http-lo-snap80.pcap
cp "$WORK/lo.pcapng" http-lo.pcapng

# LINUX_SLL2 from `tcpdump -i any` inside a namespace that only has lo (curl to a closed port: SYN, RST; twice).
ip netns add "$NS"
ip -n "$NS" link set lo up
ip netns exec "$NS" tcpdump -i any -U -w "$WORK/any.pcap" tcp 2>/dev/null & PIDS+=($!)
sleep 2
ip netns exec "$NS" curl -s --max-time 1 http://127.0.0.1:9/ || true
ip netns exec "$NS" curl -s --max-time 1 http://127.0.0.1:9/ || true
sleep 1
kill -INT "${PIDS[1]}"; wait "${PIDS[1]}" || true
cp "$WORK/any.pcap" tcp-any-sll2.pcap

# pcapng with two interfaces of different link types (Ethernet lo + SLL2 any), by mergecap.
mergecap -F pcapng -w multi-if.pcapng http-lo.pcap tcp-any-sll2.pcap
# Comments: a section comment and packet comments, by editcap.
editcap -F pcapng --capture-comment "flowtrace test section" -a "1:first packet" -a "3:third packet" http-lo.pcapng comments.pcapng
# Nanosecond pcapng (if_tsresol 9), converted by editcap from the ns pcap.
editcap -F pcapng http-lo-nano.pcap http-lo-nano.pcapng
# Two sections: pcapng files concatenated are a valid multi-section file.
cat http-lo.pcapng tcp-any-sll2.pcapng 2>/dev/null > two-sections.pcapng || {
  editcap -F pcapng tcp-any-sll2.pcap "$WORK/any.pcapng"
  cat http-lo.pcapng "$WORK/any.pcapng" > two-sections.pcapng
}
chmod 644 *.pcap *.pcapng  # dumpcap writes 0600
ls -l *.pcap *.pcapng
