/**
 * What rose between the start and the stop snapshots, and which netfilter rules are listed.
 *
 * A rule is the same rule at start and stop when source, family, table, chain, kind and text
 * agree, and it is the same occurrence of that text (two identical DROP lines in one chain
 * are the 1st and the 2nd). A rule whose text was nowhere in a start snapshot that was read
 * was added during the capture: all its packets are its rise. Otherwise a rule only at stop
 * (one more copy of a text that was there) has no known rise (null), nor has one whose
 * counter went down (the ruleset was reloaded in between).
 */
import type { CounterFacts, NetfilterFacts } from './types.js';

function identity(f: NetfilterFacts): string {
  return [f.source, f.family, f.table, f.chain, f.kind, f.text].join('\0');
}

/** Each fact's identity with its occurrence index. */
function keyed(facts: readonly NetfilterFacts[]): string[] {
  const seen = new Map<string, number>();
  return facts.map((f) => {
    const id = identity(f);
    const n = seen.get(id) ?? 0;
    seen.set(id, n + 1);
    return `${id}\0${n}`;
  });
}

/**
 * The stop facts with `packetsDelta` set from the start facts (start null: no start
 * snapshot). `readAtStart`: the sources whose start snapshot was read (default: those with a
 * fact at start) — only there does a missing text mean the rule was added since.
 */
export function netfilterDeltas(
  start: readonly NetfilterFacts[] | null, stop: readonly NetfilterFacts[],
  readAtStart: ReadonlySet<NetfilterFacts['source']> = new Set((start ?? []).map((f) => f.source)),
): NetfilterFacts[] {
  const before = new Map<string, number | null>();
  const textsBefore = new Set<string>();
  if (start !== null) {
    const keys = keyed(start);
    start.forEach((f, i) => { before.set(keys[i], f.packets); textsBefore.add(identity(f)); });
  }
  const keys = keyed(stop);
  return stop.map((f, i) => {
    if (f.packets === null || start === null) return { ...f, packetsDelta: null };
    if (!before.has(keys[i])) {
      const added = readAtStart.has(f.source) && !textsBefore.has(identity(f));
      return { ...f, packetsDelta: added ? f.packets : null };
    }
    const was = before.get(keys[i]);
    const delta = was == null ? null : f.packets - was;
    return { ...f, packetsDelta: delta !== null && delta >= 0 ? delta : null };
  });
}

const isDropping = (f: NetfilterFacts) => f.verdict === 'drop' || f.verdict === 'reject';
const rose = (f: NetfilterFacts) => f.packetsDelta !== null && f.packetsDelta > 0;

/**
 * The facts a namespace lists: DROP/REJECT rules and all policies always, other rules only
 * when their counter rose. At most `maxRules`, chosen in this order: dropping rules and
 * policies that rose, then the other dropping ones, then the rest (in ruleset order within
 * each); the list keeps ruleset order. `notListed`: the candidates that did not fit.
 */
export function selectNetfilter(facts: readonly NetfilterFacts[], maxRules: number): { listed: NetfilterFacts[]; notListed: number } {
  const candidates: number[] = [];
  facts.forEach((f, i) => { if (isDropping(f) || f.kind === 'policy' || rose(f)) candidates.push(i); });
  const tier = (f: NetfilterFacts) => (isDropping(f) && rose(f) ? 0 : isDropping(f) ? 1 : 2);
  const chosen = [...candidates].sort((a, b) => tier(facts[a]) - tier(facts[b]) || a - b).slice(0, Math.max(0, maxRules));
  chosen.sort((a, b) => a - b);
  return { listed: chosen.map((i) => facts[i]), notListed: candidates.length - chosen.length };
}

/** Kernel counters that rose (in the stop snapshot's order). */
export function risenCounters(start: Readonly<Record<string, number>>, stop: Readonly<Record<string, number>>): CounterFacts[] {
  const out: CounterFacts[] = [];
  for (const [name, value] of Object.entries(stop)) {
    const was = start[name];
    if (was !== undefined && value > was) out.push({ name, stop: value, delta: value - was });
  }
  return out;
}

/** The stats that rose, with their rise. */
export function risenStats(start: Readonly<Record<string, number>>, stop: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(stop)) {
    const was = start[name];
    if (was !== undefined && value > was) out[name] = value - was;
  }
  return out;
}
