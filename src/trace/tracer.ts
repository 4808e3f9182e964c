/**
 * The tracer: sends every TTL of a round in parallel (paced), several rounds, and moves each
 * probe through its lifecycle (`ProbeState`, transitions numbered in types.ts) as replies
 * arrive and deadlines pass. It knows nothing of sockets or wall time: all I/O goes through
 * `Network`, all time through `Clock`.
 */
import { ADAPTIVE_MIN_WAIT_MS, NEAR_FACTOR } from './config.js';
import type { ProbeFlow } from './flow.js';
import type { Clock, Network } from './network.js';
import { buildProbePacket } from './probe-packet.js';
import { ReplyParser, type ReceivedPacket } from './reply.js';
import { sequence, timeToLive, type Probe, type ProbeReply, type Sequence } from './types.js';

export interface TracerConfig {
  flow: ProbeFlow;
  firstTtl: number;
  maxTtl: number;
  rounds: number;
  timeoutMs: number;
  probeIntervalMs: number;
  roundIntervalMs: number;
  /** Later rounds probe at most this many TTLs past the highest that answered (transition 9). */
  silentHorizonHops: number;
  /** Least time between two probes of one TTL past the frontier (transition 1). */
  reprobeMinIntervalMs: number;
  /** The first probe's sequence; probe i gets sequenceBase + i (never 0, never above 0xffff). */
  sequenceBase: number;
  signal?: AbortSignal;
}

export interface TracerOutcome {
  probes: Probe[];
  /** Lowest TTL at which the destination answered / an unreachable came back. */
  destinationTtl: number | null;
  unreachableTtl: number | null;
  /** The frontier + the silent horizon when the trace ended (null when nothing was held back). */
  silentHorizonTtl: number | null;
  lateReplies: number;
  duplicateReplies: number;
  /** Replies to this trace's flow whose sequence is not one of its probes. */
  unmatchedReplies: number;
  sendErrors: number;
  firstSendError: string | null;
  startedAtMs: number;
  finishedAtMs: number;
  aborted: boolean;
}

const DESTINATION_KINDS = new Set(['echo-reply', 'tcp-syn-ack', 'tcp-rst', 'port-unreachable']);

export function isDestinationReply(reply: ProbeReply): boolean {
  return DESTINATION_KINDS.has(reply.kind);
}

export function runTracer(config: TracerConfig, network: Network, clock: Clock): Promise<TracerOutcome> {
  return new Tracer(config, network, clock).run();
}

class Tracer {
  private readonly probes: Probe[] = [];
  private readonly bySequence = new Map<number, Probe>();
  private readonly parser: ReplyParser;
  private readonly ttlsPerRound: number;
  /** Slowest RTT seen per TTL (for the adaptive wait of probes further out). */
  private readonly slowestRttAt: number[] = [];
  /** slowestBelow[ttl]: the slowest RTT of any TTL lower than ttl, -1 when none answered yet. */
  private slowestBelow: number[] = [];
  /** Probes in the Awaited state (what sweeps look at). */
  private readonly awaited = new Set<Probe>();
  /** Every probe before this index has left NotSent (the pacer's scan starts here). */
  private firstNotSent = 0;
  /** The highest TTL that has answered anything so far: the frontier of transition 1. */
  private highestAnsweredTtl: number | null = null;
  private lastSentAtMs = -Infinity;
  private destinationTtl: number | null = null;
  private unreachableTtl: number | null = null;
  private late = 0;
  private duplicates = 0;
  private unmatched = 0;
  private sendErrors = 0;
  private firstSendError: string | null = null;
  private startedAtMs = 0;
  private cancelSend: (() => void) | null = null;
  private cancelSweep: (() => void) | null = null;
  private sweepAtMs = Infinity;
  private finished = false;
  private aborted = false;
  private resolve: (o: TracerOutcome) => void = () => {};

  constructor(private readonly config: TracerConfig, private readonly network: Network, private readonly clock: Clock) {
    this.parser = new ReplyParser(config.flow);
    this.ttlsPerRound = config.maxTtl - config.firstTtl + 1;
    let i = 0;
    for (let round = 0; round < config.rounds; round++) {
      for (let ttl = config.firstTtl; ttl <= config.maxTtl; ttl++) {
        const probe: Probe = { sequence: sequence(config.sequenceBase + i++), ttl: timeToLive(ttl), round, state: { kind: 'NotSent' } };
        this.probes.push(probe);
        this.bySequence.set(probe.sequence, probe);
      }
    }
  }

  run(): Promise<TracerOutcome> {
    return new Promise((resolve) => {
      this.resolve = resolve;
      this.startedAtMs = this.clock.now();
      const signal = this.config.signal;
      if (signal) {
        if (signal.aborted) { this.abort(); return; }
        signal.addEventListener('abort', () => this.abort(), { once: true });
      }
      this.network.listen({
        onPacket: (p) => this.onPacket(p),
        onSendError: (seq, message) => this.onSendError(seq, message),
      });
      this.pump();
    });
  }

  /** The TTL beyond which probing is pointless (destination or unreachable seen below it). */
  private ttlLimit(): number {
    return Math.min(this.destinationTtl ?? Infinity, this.unreachableTtl ?? Infinity);
  }

  /** The highest TTL that has answered, or the one below the first TTL when none has. */
  private frontier(): number {
    return this.highestAnsweredTtl ?? this.config.firstTtl - 1;
  }

  /**
   * When `probe` (NotSent) may go, by transition 1's rules; Infinity while it is held (past
   * the silent horizon, or waiting for the previous round's probe at its TTL to go first).
   */
  private sendTimeOf(probe: Probe): number {
    if (probe.round === 0) return this.startedAtMs;
    const roundStart = this.startedAtMs + probe.round * this.config.roundIntervalMs;
    const frontier = this.frontier();
    if (probe.ttl <= frontier) return roundStart;
    if (probe.ttl > frontier + this.config.silentHorizonHops) return Infinity;
    const previous = this.probes[(probe.round - 1) * this.ttlsPerRound + (probe.ttl - this.config.firstTtl)].state;
    if (previous.kind === 'NotSent') return Infinity;
    if (previous.kind !== 'Awaited' && previous.kind !== 'TimedOut') return roundStart;
    return Math.min(roundStart, previous.sentAtMs + this.reprobeIntervalMs(probe));
  }

  /** NEAR_FACTOR × the slowest RTT below, at least the minimum; the round interval when nothing below answered. */
  private reprobeIntervalMs(probe: Probe): number {
    const nearer = this.slowestBelow[probe.ttl] ?? -1;
    if (nearer < 0) return this.config.roundIntervalMs;
    return Math.max(this.config.reprobeMinIntervalMs, NEAR_FACTOR * nearer);
  }

  /**
   * The pacer: sends the first probe (in round-major order) that is due, at most one per
   * probe interval, and arms its timer for the next one that will be.
   */
  private pump(): void {
    if (this.finished) return;
    if (this.cancelSend) { this.cancelSend(); this.cancelSend = null; }
    const now = this.clock.now();
    const pacedAtMs = this.lastSentAtMs + this.config.probeIntervalMs;
    const limit = this.ttlLimit();
    let earliest = Infinity;
    while (this.firstNotSent < this.probes.length && this.probes[this.firstNotSent].state.kind !== 'NotSent') this.firstNotSent++;
    for (let i = this.firstNotSent; i < this.probes.length; i++) {
      const probe = this.probes[i];
      if (probe.state.kind !== 'NotSent') continue;
      if (probe.ttl > limit) { probe.state = { kind: 'Skipped', reason: 'beyond-destination' }; continue; } // transition 2
      const at = this.sendTimeOf(probe);
      if (at === Infinity) continue;
      const due = Math.max(at, pacedAtMs);
      if (due <= now) { this.send(probe, now); earliest = now + this.config.probeIntervalMs; break; }
      if (due < earliest) earliest = due;
    }
    if (earliest !== Infinity) this.cancelSend = this.clock.setTimer(earliest - now, () => { this.cancelSend = null; this.pump(); });
    this.maybeFinish();
  }

  private send(probe: Probe, now: number): void {
    probe.state = { kind: 'Awaited', sentAtMs: now }; // transition 1
    this.lastSentAtMs = now;
    this.awaited.add(probe);
    this.network.send({
      sequence: probe.sequence,
      ttl: probe.ttl,
      destination: this.config.flow.destination,
      packet: buildProbePacket(this.config.flow, probe.sequence, probe.ttl),
    });
    this.scheduleSweep();
  }

  /**
   * How long to wait for `probe`: the timeout, or — once a nearer hop has answered —
   * NEAR_FACTOR times that hop's slowest RTT, at least ADAPTIVE_MIN_WAIT_MS.
   */
  private waitMs(probe: Probe): number {
    const nearer = this.slowestBelow[probe.ttl] ?? -1;
    if (nearer < 0) return this.config.timeoutMs;
    return Math.min(this.config.timeoutMs, Math.max(ADAPTIVE_MIN_WAIT_MS, NEAR_FACTOR * nearer));
  }

  private onPacket(packet: ReceivedPacket): void {
    if (this.finished) return;
    const reply = this.parser.parse(packet);
    if (reply === null) return;
    const probe = this.bySequence.get(reply.sequence);
    if (!probe) { this.unmatched++; return; }
    const s = probe.state;
    if (s.kind === 'TimedOut') { this.late++; return; }
    if (s.kind === 'Complete') { this.duplicates++; return; }
    if (s.kind !== 'Awaited') return; // Skipped/Failed/NotSent: a reply no longer (or not yet) wanted
    probe.state = { kind: 'Complete', sentAtMs: s.sentAtMs, receivedAtMs: packet.receivedAtMs, reply }; // transition 4
    this.awaited.delete(probe);
    const rtt = packet.receivedAtMs - s.sentAtMs;
    const prev = this.slowestRttAt[probe.ttl];
    if (prev === undefined || rtt > prev) {
      this.slowestRttAt[probe.ttl] = rtt;
      this.updateSlowestBelow();
    }
    let reschedule = false;
    if (this.highestAnsweredTtl === null || probe.ttl > this.highestAnsweredTtl) {
      this.highestAnsweredTtl = probe.ttl; // the frontier moves: held probes may be due now
      reschedule = true;
    }
    if (isDestinationReply(reply)) {
      if (this.destinationTtl === null || probe.ttl < this.destinationTtl) this.destinationTtl = probe.ttl;
      this.skipBeyondLimit();
      reschedule = true;
    } else if (reply.kind === 'unreachable') {
      if (this.unreachableTtl === null || probe.ttl < this.unreachableTtl) this.unreachableTtl = probe.ttl;
      this.skipBeyondLimit();
      reschedule = true;
    }
    this.sweep();
    if (reschedule) this.pump();
  }

  private updateSlowestBelow(): void {
    const below: number[] = [];
    let slowest = -1;
    for (let ttl = this.config.firstTtl; ttl <= this.config.maxTtl; ttl++) {
      below[ttl] = slowest;
      const rtt = this.slowestRttAt[ttl];
      if (rtt !== undefined && rtt > slowest) slowest = rtt;
    }
    this.slowestBelow = below;
  }

  private skipBeyondLimit(): void {
    const limit = this.ttlLimit();
    for (const p of this.awaited) {
      if (p.ttl > limit) { p.state = { kind: 'Skipped', reason: 'beyond-destination' }; this.awaited.delete(p); } // transition 6
    }
  }

  private onSendError(seq: Sequence, message: string): void {
    const probe = this.bySequence.get(seq);
    if (!probe || probe.state.kind !== 'Awaited') return;
    probe.state = { kind: 'Failed', error: message }; // transition 3
    this.awaited.delete(probe);
    this.sendErrors++;
    if (this.firstSendError === null) this.firstSendError = message;
    this.sweep();
  }

  /** Times out what is due (transition 5), then re-arms for the next deadline or finishes. */
  private sweep(): void {
    if (this.finished) return;
    const now = this.clock.now();
    for (const p of this.awaited) {
      const s = p.state;
      if (s.kind === 'Awaited' && now >= s.sentAtMs + this.waitMs(p)) {
        p.state = { kind: 'TimedOut', sentAtMs: s.sentAtMs }; // transition 5
        this.awaited.delete(p);
      }
    }
    this.sweepAtMs = Infinity;
    if (this.cancelSweep) { this.cancelSweep(); this.cancelSweep = null; }
    this.scheduleSweep();
    this.maybeFinish();
  }

  private scheduleSweep(): void {
    let earliest = Infinity;
    for (const p of this.awaited) {
      const s = p.state;
      if (s.kind === 'Awaited') earliest = Math.min(earliest, s.sentAtMs + this.waitMs(p));
    }
    if (earliest === Infinity || earliest >= this.sweepAtMs) return;
    if (this.cancelSweep) this.cancelSweep();
    this.sweepAtMs = earliest;
    this.cancelSweep = this.clock.setTimer(earliest - this.clock.now(), () => {
      this.cancelSweep = null;
      this.sweepAtMs = Infinity;
      this.sweep();
    });
  }

  /**
   * Finishes once nothing is in flight and nothing left could still be sent: what is still
   * NotSent then is past the destination (transition 2) or held past the silent horizon —
   * and only a reply could move the frontier, with nothing in flight none will come.
   */
  private maybeFinish(): void {
    if (this.finished || this.awaited.size > 0) return;
    const limit = this.ttlLimit();
    for (let i = this.firstNotSent; i < this.probes.length; i++) {
      const p = this.probes[i];
      if (p.state.kind !== 'NotSent' || p.ttl > limit) continue;
      if (this.sendTimeOf(p) !== Infinity) return;
    }
    for (let i = this.firstNotSent; i < this.probes.length; i++) {
      const p = this.probes[i];
      if (p.state.kind !== 'NotSent') continue;
      p.state = p.ttl > limit
        ? { kind: 'Skipped', reason: 'beyond-destination' } // transition 2
        : { kind: 'Skipped', reason: 'beyond-silent-horizon' }; // transition 9
    }
    this.finish();
  }

  private abort(): void {
    if (this.finished) return;
    this.aborted = true;
    for (const p of this.probes) {
      if (p.state.kind === 'NotSent' || p.state.kind === 'Awaited') p.state = { kind: 'Skipped', reason: 'aborted' }; // transition 8
    }
    this.awaited.clear();
    this.finish();
  }

  private finish(): void {
    this.finished = true;
    if (this.cancelSend) this.cancelSend();
    if (this.cancelSweep) this.cancelSweep();
    const held = this.probes.some((p) => p.state.kind === 'Skipped' && p.state.reason === 'beyond-silent-horizon');
    this.resolve({
      probes: this.probes,
      destinationTtl: this.destinationTtl,
      unreachableTtl: this.unreachableTtl,
      silentHorizonTtl: held ? this.frontier() + this.config.silentHorizonHops : null,
      lateReplies: this.late,
      duplicateReplies: this.duplicates,
      unmatchedReplies: this.unmatched,
      sendErrors: this.sendErrors,
      firstSendError: this.firstSendError,
      startedAtMs: this.startedAtMs,
      finishedAtMs: this.clock.now(),
      aborted: this.aborted,
    });
  }
}
