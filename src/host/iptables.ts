/**
 * `iptables-save -c` / `ip6tables-save -c` → NetfilterFacts.
 *
 * The format (iptables-save(8), iptables(8), iptables-extensions(8)):
 *   *TABLE                                  a table starts
 *   :CHAIN POLICY [packets:bytes]           a built-in chain with its policy counter
 *   :CHAIN - [packets:bytes]                a user chain (no policy)
 *   [packets:bytes] -A CHAIN MATCHES -j T   a rule with its counter (`-c`)
 *   COMMIT
 * iptables-save writes matches in a canonical order and with `!` before the option
 * (`! -i docker0`), which is what is parsed here. A rule line without the counter prefix
 * (iptables-save without -c) is read with null counters.
 */
import type { NetfilterFacts } from './types.js';
import { BUILTIN_CHAIN_HOOKS, reachingHooks } from './hooks.js';
import { ruleWords } from '../capture/index.js';

type Match = NetfilterFacts['match'];

/** A match with nothing matched on. */
export function emptyMatch(): Match {
  return {
    inInterface: null, inNegated: false, outInterface: null, outNegated: false, protocol: null,
    source: null, destination: null, sourcePorts: null, destinationPorts: null,
    protocolNegated: false, sourceNegated: false, destinationNegated: false, sourcePortsNegated: false, destinationPortsNegated: false,
  };
}

const COUNTER_PREFIX = /^\[(\d+):(\d+)\]\s+/;


/** The text with the `[packets:bytes] ` prefixes of rule lines removed (what `iptables -S`-style readers expect). */
export function stripIptablesCounters(text: string): string {
  return text.split('\n').map((l) => l.replace(COUNTER_PREFIX, '')).join('\n');
}

/** The tables an iptables-save text has (`*filter` → filter). */
export function iptablesSaveTables(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) if (/^\*\S+\s*$/.test(line)) out.push(line.trim().slice(1));
  return out;
}

const VERDICTS: Readonly<Record<string, NetfilterFacts['verdict']>> = {
  DROP: 'drop', REJECT: 'reject', ACCEPT: 'accept', RETURN: 'return', DNAT: 'dnat', SNAT: 'snat', MASQUERADE: 'masquerade',
};

const PORT_OPTIONS: Readonly<Record<string, 'source' | 'destination'>> = {
  '--sport': 'source', '--source-port': 'source', '--sports': 'source', '--source-ports': 'source',
  '--dport': 'destination', '--destination-port': 'destination', '--dports': 'destination', '--destination-ports': 'destination',
};

interface PendingRule { facts: NetfilterFacts; jumpTarget: string | null; goto: boolean }

/** Reads the matches and the target of one rule's words (after `-A CHAIN`). */
function readRule(w: readonly string[], f: NetfilterFacts): { jumpTarget: string | null; goto: boolean } {
  const m = f.match;
  let jumpTarget: string | null = null;
  let goto = false;
  let negate = false;
  for (let i = 0; i < w.length; i++) {
    const word = w[i];
    if (word === '!') { negate = true; continue; }
    const next = w[i + 1] ?? null;
    const takesValue = next !== null && next !== '!' && !next.startsWith('-');
    switch (word) {
      case '-i': case '--in-interface': m.inInterface = next; m.inNegated = negate; break;
      case '-o': case '--out-interface': m.outInterface = next; m.outNegated = negate; break;
      case '-p': case '--protocol': m.protocol = next; m.protocolNegated = negate; break;
      case '-s': case '--source': case '--src': m.source = next; m.sourceNegated = negate; break;
      case '-d': case '--destination': case '--dst': m.destination = next; m.destinationNegated = negate; break;
      case '-j': case '--jump': jumpTarget = next; break;
      case '-g': case '--goto': jumpTarget = next; goto = true; break;
      default: {
        const side = PORT_OPTIONS[word];
        if (side === 'source') { m.sourcePorts = next; m.sourcePortsNegated = negate; }
        else if (side === 'destination') { m.destinationPorts = next; m.destinationPortsNegated = negate; }
        break;
      }
    }
    negate = false;
    // Skip the option's values (`--tcp-flags SYN,RST SYN` has two), never the next option.
    if (word.startsWith('-') && takesValue) {
      i++;
      while (i + 1 < w.length && w[i + 1] !== '!' && !w[i + 1].startsWith('-') && !(word === '-j' || word === '-g')) i++;
    }
  }
  return { jumpTarget, goto };
}

/**
 * Every rule and built-in chain policy of an iptables-save text, every table, with counters
 * and the hooks each chain is reached from. Never throws: lines it does not understand are
 * skipped.
 */
export function parseIptablesSave(text: string, source: 'iptables' | 'ip6tables'): NetfilterFacts[] {
  const family = source === 'iptables' ? 'ip' : 'ip6';
  const out: NetfilterFacts[] = [];
  let table: string | null = null;
  let chains = new Set<string>();
  let pending: PendingRule[] = [];
  let policies: NetfilterFacts[] = [];

  const finishTable = () => {
    if (table === null) return;
    // Hooks: built-in chains have theirs; user chains get those that reach them.
    const own = new Map<string, string[]>();
    const edges = new Map<string, Set<string>>();
    for (const c of chains) if (BUILTIN_CHAIN_HOOKS[c]) own.set(c, [BUILTIN_CHAIN_HOOKS[c]]);
    for (const p of pending) {
      if (p.jumpTarget === null || !chains.has(p.jumpTarget)) continue;
      let e = edges.get(p.facts.chain);
      if (!e) { e = new Set(); edges.set(p.facts.chain, e); }
      e.add(p.jumpTarget);
    }
    const hooks = reachingHooks(own, edges);
    for (const p of policies) { p.hooks = hooks.get(p.chain) ?? []; out.push(p); }
    for (const p of pending) {
      const t = p.jumpTarget;
      if (t !== null) {
        if (p.goto) { p.facts.verdict = 'goto'; p.facts.target = t; }
        else if (VERDICTS[t] && !chains.has(t)) p.facts.verdict = VERDICTS[t];
        else if (chains.has(t)) { p.facts.verdict = 'jump'; p.facts.target = t; }
        else p.facts.target = t; // an extension target: LOG, TCPMSS, MARK…
      }
      p.facts.hooks = hooks.get(p.facts.chain) ?? [];
      out.push(p.facts);
    }
    table = null;
  };

  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      finishTable();
      table = line.slice(1).trim();
      chains = new Set();
      pending = [];
      policies = [];
      continue;
    }
    if (table === null) continue;
    if (line === 'COMMIT') { finishTable(); continue; }
    if (line.startsWith(':')) {
      const m = /^:(\S+)\s+(\S+)(?:\s+\[(\d+):(\d+)\])?/.exec(line);
      if (!m) continue;
      chains.add(m[1]);
      if (m[2] === '-') continue; // a user chain: no policy
      policies.push({
        source, family, table, chain: m[1], kind: 'policy', text: `:${m[1]} ${m[2]}`,
        verdict: VERDICTS[m[2]] ?? 'other', target: null, hooks: [], match: emptyMatch(),
        packets: m[3] !== undefined ? Number(m[3]) : null, bytes: m[4] !== undefined ? Number(m[4]) : null, packetsDelta: null,
      });
      continue;
    }
    const counter = COUNTER_PREFIX.exec(line);
    const ruleText = counter ? line.slice(counter[0].length) : line;
    if (!ruleText.startsWith('-A ')) continue;
    const w = ruleWords(ruleText);
    if (w.length < 2) continue;
    const facts: NetfilterFacts = {
      source, family, table, chain: w[1], kind: 'rule', text: ruleText, verdict: 'other', target: null, hooks: [],
      match: emptyMatch(), packets: counter ? Number(counter[1]) : null, bytes: counter ? Number(counter[2]) : null, packetsDelta: null,
    };
    const { jumpTarget, goto } = readRule(w.slice(2), facts);
    pending.push({ facts, jumpTarget, goto });
  }
  finishTable(); // a text cut before COMMIT keeps what was read
  return out;
}
