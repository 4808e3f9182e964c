#!/usr/bin/env bash
# Makes the small real captures in this folder (run as root; needs tcpdump, curl, traceroute,
# dnsmasq, python3, node). Everything lives in two throwaway namespaces fttread-a/fttread-b
# joined by a veth pair; nothing leaves them, and they are removed on exit (even on failure).
#   lab-eth.pcap        tcpdump -i ftr-a (Ethernet) in fttread-a
#   lab-any.pcap        tcpdump -i any (LINUX_SLL2) in fttread-a, plus lab-any.ifmap (ip -o link there)
#   *.tcpdump.txt       what tcpdump -n -r printed for each (inside fttread-a, TZ=GMT0, -tttt -#):
#                       the golden output the printer is compared with; lab-eth-v-ip: -v, filter ip.
# Traffic: HTTP/1.1 GET over IPv4 and IPv6 (curl → python http.server), a DNS query (UDP,
# node + dns-packet → dnsmasq), ICMP echo and UDP/ICMP-unreachable probes (traceroute).
set -euo pipefail
cd "$(dirname "$0")"
A=fttread-a B=fttread-b
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del $A 2>/dev/null || true
  ip netns del $B 2>/dev/null || true
}
trap cleanup EXIT INT TERM
cleanup
ip netns add $A
ip netns add $B
ip -n $A link add ftr-a type veth peer name ftr-b netns $B
ip -n $A addr add 10.99.0.1/24 dev ftr-a
ip -n $B addr add 10.99.0.2/24 dev ftr-b
ip -n $A addr add fd00:99::1/64 dev ftr-a nodad
ip -n $B addr add fd00:99::2/64 dev ftr-b nodad
for ns in $A $B; do ip -n $ns link set lo up; done
ip -n $A link set ftr-a up
ip -n $B link set ftr-b up
mkdir -p /tmp/fttread-www && echo hello > /tmp/fttread-www/index.html
ip netns exec $B python3 -m http.server 8080 --bind :: --directory /tmp/fttread-www >/dev/null 2>&1 & pids+=($!)
ip netns exec $B dnsmasq --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
  --listen-address=10.99.0.2 --bind-interfaces --host-record=www.seqas.online,10.99.0.80 --pid-file= >/dev/null 2>&1 & pids+=($!)
sleep 1
ip netns exec $A tcpdump -i ftr-a -w lab-eth.pcap -U >/dev/null 2>&1 & tde=$!; pids+=($tde)
ip netns exec $A tcpdump -i any -w lab-any.pcap -U >/dev/null 2>&1 & tda=$!; pids+=($tda)
sleep 1
ip netns exec $A curl -s -o /dev/null http://10.99.0.2:8080/
ip netns exec $A curl -s -o /dev/null -g 'http://[fd00:99::2]:8080/'
ip netns exec $A node -e '
const dgram = require("node:dgram"); const pkt = require("dns-packet");
const s = dgram.createSocket("udp4");
s.on("message", () => s.close());
s.send(pkt.encode({ type: "query", id: 4660, flags: pkt.RECURSION_DESIRED, questions: [{ type: "A", name: "www.seqas.online" }] }), 53, "10.99.0.2");
setTimeout(() => { try { s.close(); } catch {} }, 2000);' 
ip netns exec $A traceroute -n -q 1 -m 1 -I 10.99.0.2 >/dev/null || true
ip netns exec $A traceroute -n -q 1 -m 1 10.99.0.2 >/dev/null || true
sleep 1
kill -INT $tde $tda; wait $tde $tda 2>/dev/null || true
ip -n $A -o link > lab-any.ifmap
for f in lab-eth lab-any; do
  ip netns exec $A env TZ=GMT0 tcpdump -# -n -tttt -r $f.pcap 2>/dev/null > $f.tcpdump.txt
done
ip netns exec $A env TZ=GMT0 tcpdump -# -n -tttt -v -r lab-eth.pcap ip 2>/dev/null > lab-eth-v-ip.tcpdump.txt
rm -rf /tmp/fttread-www
echo "made: $(ls lab-*)"
