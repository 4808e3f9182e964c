/**
 * The decoder's hot path does not allocate: rounds of 20 000 decodes of real packets
 * (HTTP heads included: their strings are made only when read) leave the heap where it was.
 * Measured in one synchronous loop, so nothing else runs: any per-packet allocation of even
 * a few bytes would show as megabytes here (the young generation is not collected in between
 * unless it fills, and a collection would show up in the GC count).
 */
import assert from 'node:assert/strict';
import { PerformanceObserver } from 'node:perf_hooks';
import { it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { LINKTYPE } from '../../src/capture/types.js';
import { createDecoder } from '../../src/decode/index.js';
import { ETH_IPV4_DNS_RESPONSE, ETH_IPV4_HTTP_GET, ETH_IPV4_ICMP_PORT_UNREACHABLE, ETH_IPV4_TCP_SYN, ETH_IPV6_TCP_SYN, SLL2_IPV4_TCP_SYNACK } from './packets.js';

/** Packets per round: small enough that a per-packet allocation fits in the young generation
 * (so no scavenge hides it), large enough that even 8 bytes per packet shows. */
const PACKETS = 20_000;
/** 20 000 × even 8 bytes would be 160 KB. */
const MAX_GROWTH_BYTES = 32 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

it(`decoding packets allocates nothing per packet (best of 5 rounds of ${PACKETS})`, async () => {
  const frames: Array<[number, Uint8Array]> = [
    [LINKTYPE.ETHERNET, ETH_IPV4_TCP_SYN],
    [LINKTYPE.ETHERNET, ETH_IPV4_DNS_RESPONSE],
    [LINKTYPE.ETHERNET, ETH_IPV4_ICMP_PORT_UNREACHABLE],
    [LINKTYPE.ETHERNET, ETH_IPV6_TCP_SYN],
    [LINKTYPE.LINUX_SLL2, SLL2_IPV4_TCP_SYNACK],
    [LINKTYPE.ETHERNET, ETH_IPV4_HTTP_GET],
  ];
  const decoder = createDecoder();
  let checksum = 0;
  // Warm up (JIT compilation allocates) before measuring.
  const linkTypes = frames.map((f) => f[0]);
  const datas = frames.map((f) => f[1]);
  // The same loop as the measured one (a different body would be compiled anew during the
  // rounds: on a loaded machine that compilation landed inside them and was counted).
  const loop = (n: number): void => {
    for (let i = 0; i < n; i++) {
      const p = decoder.decode(linkTypes[i % 6], datas[i % 6]);
      checksum = (checksum + p.tcp.srcPort + p.udp.srcPort + p.icmp.type + p.link.ifindex + (p.http.present ? p.http.headLength : 0)) & 0xffff; // a small integer (no boxing)
    }
  };
  for (let w = 0; w < 10; w++) loop(50_000);
  // JIT tiers up during the first rounds (compilation allocates); a per-packet allocation
  // would show in every round, so the quietest of five rounds is what is asserted.
  let best = Infinity;
  let gcInBest = 0;
  for (let round = 0; round < 5; round++) {
    gc();
    let gcCount = 0;
    const obs = new PerformanceObserver((list) => { gcCount += list.getEntries().length; });
    obs.observe({ entryTypes: ['gc'] });
    const before = process.memoryUsage().heapUsed;
    loop(PACKETS);
    const growth = process.memoryUsage().heapUsed - before;
    await new Promise((r) => setImmediate(r)); // let the observer deliver
    obs.disconnect();
    if (growth < best) { best = growth; gcInBest = gcCount; }
  }
  assert.ok(checksum >= 0);
  assert.ok(best < MAX_GROWTH_BYTES, `heap grew by ${best} bytes over ${PACKETS} decodes`);
  assert.equal(gcInBest, 0, `${gcInBest} garbage collections ran during the loop`);
});
