/**
 * Path MTU discovery (`trace --mtu`), run after the trace has found the path. Probes are the
 * trace's own flow (UDP or ICMP echo), padded to a size, IPv4 DF set (IPv6 routers never
 * fragment). RFC 1191 (IPv4, "fragmentation needed" with the next-hop MTU, ICMP type 3 code
 * 4), RFC 8201 (IPv6, Packet Too Big, ICMPv6 type 2), RFC 4821 (searching sizes when no ICMP
 * comes back).
 *
 * Every batch of probes ends with a small control probe to the same place, sent last: a large
 * probe that goes unanswered while the control sent after it is answered did not get through
 * because of its size, not because of loss or ICMP rate limiting (Linux allows a burst of 6
 * errors per peer, then one per second, and the last sent is the first cut). A batch whose
 * control goes unanswered proves nothing: it is repeated after a pause long enough for the
 * limits to refill, with fewer sizes, at most MTU_MAX_VOID_BATCHES times in a row.
 *
 * 1. Probe: one probe of the current size to the target (the destination's hop, or the last
 *    that answers), then the control.
 * 2. The target answers it: that size is the path MTU.
 * 3. A router answers "fragmentation needed" / "packet too big" (Linux never rate-limits
 *    these): it is in front of the smaller link, its hop is where it answered the trace. The
 *    size becomes the MTU it names — or, when it names none that fits (0 from routers older
 *    than RFC 1191), the largest size found by searching (5) — and back to 1.
 * 4. Silence while the control is answered: an MTU black hole, or a lost probe. A large and a
 *    small probe at every TTL up to the target tell which: the large one answered at the
 *    target means it was a loss; otherwise the drop is after the last hop the large probes
 *    reach, before the first that answers only the small ones.
 * 5. Search: sizes between the largest known to pass and the smallest known not to, at the
 *    target, MTU_SEARCH_SIZES_PER_STEP per batch — first the common MTUs (tunnels, PPPoE…),
 *    then evenly spaced sizes, always with the size just above the largest that passed, so a
 *    common MTU is confirmed in two batches. Then back to 1 with the size found.
 */
import { ADAPTIVE_MIN_WAIT_MS, MTU_FIRST_GUESSES, MTU_GRACE_MIN_MS, MTU_MAX_PROBES, MTU_MAX_VOID_BATCHES, MTU_RATE_LIMIT_PAUSE_MS, MTU_SEARCH_SIZES_PER_STEP, NEAR_FACTOR } from './config.js';
import type { ProbeFlow } from './flow.js';
import type { Clock, Network } from './network.js';
import { buildSizedProbePacket, smallestProbeBytes } from './probe-packet.js';
import { ReplyParser } from './reply.js';
import { isDestinationReply } from './tracer.js';
import { sequence, timeToLive, type Hop, type MtuDrop, type PathMtu, type PathMtuStatus, type ProbeReply } from './types.js';

/** RFC 791: every IPv4 link carries 68 bytes; RFC 8200 §5: every IPv6 link 1280. */
const MIN_MTU = { 4: 68, 6: 1280 } as const;
/** Tried when this machine's link MTU cannot be read. */
const FALLBACK_LOCAL_MTU = 1500;
const ICMP4_UNREACH = 3;
const ICMP4_FRAG_NEEDED = 4;
const ICMP6_PACKET_TOO_BIG = 2;

export interface PathMtuConfig {
  flow: ProbeFlow;
  /** The trace's hops: who answered small probes at each TTL. */
  hops: Hop[];
  firstTtl: number;
  /** Sizes are tested up to this TTL; null when nothing on the path answered. */
  targetTtl: number | null;
  targetIsDestination: boolean;
  timeoutMs: number;
  probeIntervalMs: number;
  /** Sequences sequenceBase … sequenceBase + MTU_MAX_PROBES − 1 are this search's. */
  sequenceBase: number;
  signal?: AbortSignal;
}

interface SizedProbe { ttl: number; bytes: number }

/** What became of one sized probe. */
type SizedOutcome =
  | { kind: 'passed'; reply: ProbeReply; rttMs: number } // time-exceeded at its TTL, or the destination's answer
  | { kind: 'too-big'; reply: ProbeReply } // fragmentation needed / packet too big from a router
  | { kind: 'refused'; reply: ProbeReply } // another unreachable
  | { kind: 'not-sent'; error: string } // the local send failed (EMSGSIZE: bigger than this machine's link)
  | { kind: 'lost' };

interface Batch { outcomes: SizedOutcome[]; controlPassed: boolean }

export async function discoverPathMtu(config: PathMtuConfig, network: Network, clock: Clock): Promise<PathMtu> {
  return new MtuSearch(config, network, clock).run();
}

class MtuSearch {
  private readonly parser: ReplyParser;
  private readonly minMtu: number;
  private readonly smallest: number;
  private readonly localMtu: number | null;
  /** How long a probe is waited for: the trace's adaptive wait against the slowest hop up to the target. */
  private readonly waitMs: number;
  private nextSequence: number;
  private probesSent = 0;
  private sendFailures = 0;
  private voidBatches = 0;
  private largestPassed: number | null = null;
  private smallestFailed: number | null = null;
  private readonly drops: MtuDrop[] = [];
  private readonly startedAtMs: number;

  constructor(private readonly config: PathMtuConfig, private readonly network: Network, private readonly clock: Clock) {
    this.parser = new ReplyParser(config.flow);
    this.minMtu = MIN_MTU[config.flow.family];
    this.smallest = smallestProbeBytes(config.flow);
    this.localMtu = network.localMtu(config.flow.source);
    this.nextSequence = config.sequenceBase;
    let slowest = 0;
    for (const h of config.hops) if (config.targetTtl !== null && h.ttl <= config.targetTtl && h.rttMaxMs !== null) slowest = Math.max(slowest, h.rttMaxMs);
    this.waitMs = Math.min(config.timeoutMs, Math.max(ADAPTIVE_MIN_WAIT_MS, NEAR_FACTOR * slowest));
    this.startedAtMs = clock.now();
  }

  async run(): Promise<PathMtu> {
    const target = this.config.targetTtl;
    if (target === null) return this.result('no-reply', null);
    let size = Math.max(this.localMtu ?? FALLBACK_LOCAL_MTU, this.smallest);
    for (;;) {
      const batch = await this.batch([{ ttl: target, bytes: size }]); // step 1
      if (batch === null) return this.result('inconclusive', null);
      if (!batch.controlPassed) {
        if (batch.outcomes.every((o) => o.kind === 'not-sent')) return this.result('failed', null);
        if (!(await this.afterVoidBatch(2))) return this.result('inconclusive', null);
        continue;
      }
      const o = batch.outcomes[0];
      if (o.kind === 'passed') { // step 2
        this.passed(size);
        return this.result(this.drops.some((d) => d.how === 'black-hole') ? 'black-hole' : 'found', size);
      }
      let drop: MtuDrop;
      if (o.kind === 'too-big') { // step 3
        const traced = this.config.hops.find((h) => h.ttl < target && h.responders.some((r) => r.address === o.reply.responder));
        const afterTtl = traced?.ttl ?? (await this.localize(size))?.reached ?? target - 1;
        drop = { afterTtl, router: o.reply.responder, beforeTtl: afterTtl + 1, mtu: 0, how: this.config.flow.family === 4 ? 'frag-needed' : 'packet-too-big', reportedMtu: o.reply.mtu };
      } else if (o.kind === 'not-sent') { // this machine refuses the size (EMSGSIZE): its link is smaller than it says
        drop = { afterTtl: 0, router: null, beforeTtl: this.firstAnsweringAfter(0, target), mtu: 0, how: 'local-link', reportedMtu: null };
      } else { // step 4
        const where = await this.localize(size);
        if (where === null) return this.result('inconclusive', null);
        if (where.reached >= target) continue; // the large probe got there this time: it was lost, not too big
        drop = { afterTtl: where.reached, router: where.router, beforeTtl: where.beforeTtl, mtu: 0, how: 'black-hole', reportedMtu: null };
      }
      this.failed(size);
      const reported = drop.reportedMtu;
      if (reported !== null && reported >= this.minMtu && reported < size) {
        drop.mtu = reported;
      } else {
        const found = await this.search(target); // step 5
        if (found === null) return this.result('inconclusive', null);
        drop.mtu = found;
      }
      this.drops.push(drop);
      size = drop.mtu;
    }
  }

  /**
   * Step 4: a large then a small probe at every TTL up to the target. The last hop that
   * answers a large one, and the first after it that answers only the small one.
   */
  private async localize(size: number): Promise<{ reached: number; router: string | null; beforeTtl: number } | null> {
    const target = this.config.targetTtl!;
    const probes: SizedProbe[] = [];
    for (let ttl = this.config.firstTtl; ttl <= target; ttl++) probes.push({ ttl, bytes: size }, { ttl, bytes: this.smallest });
    for (;;) {
      const batch = await this.batch(probes.slice(0, -1)); // the last small probe is the batch's control
      if (batch === null) return null;
      if (!batch.controlPassed) {
        if (!(await this.afterVoidBatch(2))) return null; // two probes per hop
        continue;
      }
      let reached = 0;
      let router: string | null = null;
      let beforeTtl = target;
      for (let i = 0; i < probes.length; i += 2) {
        const large = batch.outcomes[i];
        const small = batch.outcomes[i + 1];
        if (large.kind === 'passed') { reached = probes[i].ttl; router = large.reply.responder; beforeTtl = target; }
        else if (small.kind === 'passed' && beforeTtl === target && probes[i].ttl > reached) beforeTtl = probes[i].ttl;
      }
      if (reached >= target) this.passed(size);
      return { reached, router: router ?? this.responderAt(reached), beforeTtl: Math.max(beforeTtl, reached + 1) };
    }
  }

  /** Step 5: the largest size that reaches the target, below the smallest known not to; null when it cannot be told. */
  private async search(target: number): Promise<number | null> {
    let perStep = MTU_SEARCH_SIZES_PER_STEP;
    let first = true;
    for (;;) {
      const lo = Math.max(this.largestPassed ?? this.smallest, this.smallest);
      const hi = this.smallestFailed!;
      if (hi - lo <= 1) return lo;
      // First the common MTUs; then the size just above the largest that passed (it failing
      // ends the search) and evenly spaced ones; one size at a time (rate-limited): halves.
      const sizes = first ? MTU_FIRST_GUESSES.filter((m) => m > lo && m < hi).slice(0, perStep) : perStep > 1 && this.largestPassed !== null ? [lo + 1] : [];
      for (let i = perStep; i >= 1 && sizes.length < perStep; i--) {
        const s = lo + Math.round(((hi - lo) * i) / (perStep + 1));
        if (s > lo && s < hi && !sizes.includes(s)) sizes.push(s);
      }
      const batch = await this.batch(sizes.map((bytes) => ({ ttl: target, bytes })));
      if (batch === null) return null;
      if (!batch.controlPassed) {
        perStep = Math.max(1, Math.floor(perStep / 2));
        if (!(await this.afterVoidBatch(perStep + 1))) return null;
        continue;
      }
      first = false;
      sizes.forEach((bytes, i) => { if (batch.outcomes[i].kind === 'passed') this.passed(bytes); });
      sizes.forEach((bytes, i) => { if (batch.outcomes[i].kind !== 'passed') this.failed(bytes); });
    }
  }

  /** A size that reached the target. */
  private passed(bytes: number): void {
    if (this.largestPassed === null || bytes > this.largestPassed) this.largestPassed = bytes;
    if (this.smallestFailed !== null && this.smallestFailed <= bytes) this.smallestFailed = null;
  }

  /** A size that did not get through; ignored when a larger one did (that loss was not about size). */
  private failed(bytes: number): void {
    if (this.largestPassed !== null && bytes <= this.largestPassed) return;
    if (this.smallestFailed === null || bytes < this.smallestFailed) this.smallestFailed = bytes;
  }

  /**
   * After a batch whose control went unanswered: pause until a peer's rate limit has refilled
   * for `perPeer` probes (Linux: one ICMP error per second), or give up.
   */
  private async afterVoidBatch(perPeer: number): Promise<boolean> {
    if (++this.voidBatches > MTU_MAX_VOID_BATCHES || this.config.signal?.aborted) return false;
    await new Promise<void>((resolve) => this.clock.setTimer(MTU_RATE_LIMIT_PAUSE_MS * perPeer, resolve));
    return !this.config.signal?.aborted;
  }

  private responderAt(ttl: number): string | null {
    return this.config.hops.find((h) => h.ttl === ttl)?.responders[0]?.address ?? null;
  }

  private firstAnsweringAfter(ttl: number, target: number): number {
    for (const h of this.config.hops) if (h.ttl > ttl && h.ttl <= target && h.received > 0) return h.ttl;
    return target;
  }

  /**
   * Sends `probes` (paced) and then the control probe (smallest size, at the last probe's TTL);
   * ends when all are answered, when the control has been answered for a grace period
   * (NEAR_FACTOR × its RTT, at least MTU_GRACE_MIN_MS: larger probes sent before it would
   * be back by then), or after the wait. Null when aborted or out of sequences.
   */
  private batch(probes: SizedProbe[]): Promise<Batch | null> {
    const all = [...probes, { ttl: probes[probes.length - 1].ttl, bytes: this.smallest }];
    if (this.nextSequence - this.config.sequenceBase + all.length > MTU_MAX_PROBES) return Promise.resolve(null);
    const control = all.length - 1;
    const outcomes: SizedOutcome[] = all.map(() => ({ kind: 'lost' }));
    const sentAtMs: number[] = [];
    const index = new Map<number, number>();
    let pending = all.length;
    let next = 0;
    let lastSentAtMs = 0;
    let graceUntilMs = Infinity;
    return new Promise<Batch | null>((resolve) => {
      let done = false;
      let cancelTimer: (() => void) | null = null;
      const signal = this.config.signal;
      const finish = (aborted: boolean): void => {
        if (done) return;
        done = true;
        if (cancelTimer) cancelTimer();
        signal?.removeEventListener('abort', onAbort);
        if (outcomes[control].kind === 'passed') this.voidBatches = 0;
        resolve(aborted ? null : { outcomes, controlPassed: outcomes[control].kind === 'passed' });
      };
      const onAbort = (): void => finish(true);
      /** Sends the next probe, or — all sent — finishes when nothing more is worth waiting for. */
      const tick = (): void => {
        if (cancelTimer) { cancelTimer(); cancelTimer = null; }
        if (done) return;
        const now = this.clock.now();
        if (next < all.length) {
          const i = next++;
          const seq = sequence(this.nextSequence++);
          index.set(seq, i);
          sentAtMs[i] = now;
          lastSentAtMs = now;
          this.probesSent++;
          const ttl = timeToLive(all[i].ttl);
          this.network.send({ sequence: seq, ttl, destination: this.config.flow.destination, packet: buildSizedProbePacket(this.config.flow, seq, ttl, all[i].bytes) });
          cancelTimer = this.clock.setTimer(next < all.length ? this.config.probeIntervalMs : Math.min(graceUntilMs, lastSentAtMs + this.waitMs) - now, tick);
          return;
        }
        const endAtMs = Math.min(graceUntilMs, lastSentAtMs + this.waitMs);
        if (pending === 0 || now >= endAtMs) { finish(false); return; }
        cancelTimer = this.clock.setTimer(endAtMs - now, tick);
      };
      const settle = (i: number, o: SizedOutcome): void => {
        if (outcomes[i].kind !== 'lost') return;
        outcomes[i] = o;
        pending--;
        if (i === control && o.kind === 'passed') graceUntilMs = this.clock.now() + Math.max(MTU_GRACE_MIN_MS, NEAR_FACTOR * o.rttMs);
        if (next >= all.length) tick(); // re-arm for the new end (or finish)
      };
      this.network.listen({
        onPacket: (packet) => {
          if (done) return;
          const reply = this.parser.parse(packet);
          const i = reply === null ? undefined : index.get(reply.sequence);
          if (reply === null || i === undefined) return;
          if (reply.kind === 'time-exceeded' || isDestinationReply(reply)) settle(i, { kind: 'passed', reply, rttMs: packet.receivedAtMs - sentAtMs[i] });
          else if (isTooBig(reply)) settle(i, { kind: 'too-big', reply });
          else settle(i, { kind: 'refused', reply });
        },
        onSendError: (seq, message) => {
          const i = index.get(seq);
          if (done || i === undefined) return;
          this.sendFailures++;
          settle(i, { kind: 'not-sent', error: message });
        },
      });
      if (signal?.aborted) { finish(true); return; }
      signal?.addEventListener('abort', onAbort, { once: true });
      tick();
    });
  }

  private result(status: PathMtuStatus, pathMtu: number | null): PathMtu {
    const r: PathMtu = {
      status,
      pathMtu,
      largestPassedBytes: this.largestPassed,
      smallestFailedBytes: this.smallestFailed,
      localMtu: this.localMtu,
      targetTtl: this.config.targetTtl,
      targetIsDestination: this.config.targetIsDestination,
      drops: this.drops,
      probesSent: this.probesSent,
      durationMs: Math.round((this.clock.now() - this.startedAtMs) * 1000) / 1000,
      explanation: [],
    };
    r.explanation = explainPathMtu(r, this.config.flow.destination, this.sendFailures);
    return r;
  }
}

function isTooBig(reply: ProbeReply): boolean {
  return reply.kind === 'unreachable' && (reply.icmpType === ICMP4_UNREACH ? reply.icmpCode === ICMP4_FRAG_NEEDED : reply.icmpType === ICMP6_PACKET_TOO_BIG);
}

/** Sentences for a path MTU result (facts first, words here, where they are shown). */
export function explainPathMtu(r: PathMtu, destination: string, sendFailures = 0): string[] {
  const out: string[] = [];
  const where = r.targetTtl === null ? destination : r.targetIsDestination ? `${destination} (hop ${r.targetTtl})` : `hop ${r.targetTtl}, the last that answers (${destination} was not reached)`;
  for (const d of r.drops) {
    const router = d.router ? `hop ${d.afterTtl} (${d.router})` : `hop ${d.afterTtl}`;
    if (d.how === 'black-hole') {
      out.push(`MTU black hole after ${router}: packets over ${d.mtu} bytes get no further than hop ${d.afterTtl} while smaller ones reach hop ${d.beforeTtl}, ` +
        'and no "fragmentation needed" / "packet too big" comes back (filtered on the way, or never sent): connections that send full-size packets stall there');
    } else if (d.how === 'local-link') {
      out.push(`this machine refuses to send packets over ${d.mtu} bytes (EMSGSIZE): its own link is smaller than the MTU it reports (${r.localMtu ?? 'unknown'})`);
    } else {
      const said = d.how === 'frag-needed' ? '"fragmentation needed"' : '"packet too big"';
      out.push(d.reportedMtu === d.mtu
        ? `${router} answered ${said} with MTU ${d.mtu}: the link after it carries at most ${d.mtu}-byte packets`
        : `${router} answered ${said} but named no usable MTU (${d.reportedMtu ?? 'none'}): probing sizes, the largest that gets past it is ${d.mtu} bytes`);
    }
  }
  switch (r.status) {
    case 'found':
      out.push(r.drops.length === 0
        ? `${r.pathMtu}-byte packets (this machine's link MTU) reach ${where} unfragmented: path MTU ${r.pathMtu}`
        : `path MTU to ${where}: ${r.pathMtu} bytes`);
      break;
    case 'black-hole':
      out.push(`path MTU to ${where}: ${r.pathMtu} bytes, found by probing sizes (no ICMP says so)`);
      break;
    case 'inconclusive':
      out.push(`the small control probes to ${where} went unanswered as well (loss, or ICMP rate limiting): the path MTU is ` +
        `${r.largestPassedBytes !== null ? `at least ${r.largestPassedBytes}` : 'not known'}${r.smallestFailedBytes !== null ? ` and below ${r.smallestFailedBytes}` : ''} bytes`);
      break;
    case 'no-reply':
      out.push('nothing on the path answers small probes: there is nothing to measure packet sizes against');
      break;
    case 'failed':
      out.push(`the size probes could not be sent (${sendFailures} send errors)`);
      break;
  }
  return out;
}
