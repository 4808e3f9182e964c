/**
 * `nft -j list ruleset` → NetfilterFacts (libnftables-json(5)).
 *
 * The JSON is a list of objects `{"table"|"chain"|"rule"|"set"|…: {...}}`. A rule is
 * `{family, table, chain, handle, expr: [statement…]}`; a statement is a match
 * (`{"match": {op, left, right}}`), a `counter` (`{packets, bytes}`), a verdict (`{"drop":
 * null}`, `{"jump": {"target": "x"}}`), a NAT statement, an iptables-nft compat expression
 * (`{"xt": {type, name}}`), …
 *
 * A rule's text is a rendering close to `nft list ruleset` without counter values
 * (`iifname "d1" tcp dport { 22, 80 } counter drop`), so that a rule is the same text at
 * start and stop; what is not rendered here is written as compact JSON.
 */
import type { NetfilterFacts } from './types.js';
import { emptyMatch } from './iptables.js';
import { reachingHooks } from './hooks.js';

type Json = unknown;
type Obj = Record<string, Json>;

function isObj(v: Json): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** nft prints these meta keys without `meta`. */
const BARE_META = new Set(['iifname', 'oifname', 'iif', 'oif', 'iiftype', 'oiftype', 'skuid', 'skgid', 'iifgroup', 'oifgroup', 'ibrname', 'obrname']);
/** Keys whose values are interface names (printed quoted). */
const NAME_KEYS = new Set(['iifname', 'oifname', 'ibrname', 'obrname', 'ibriport', 'obriport']);

function compact(v: Json): string {
  try { return JSON.stringify(v) ?? 'null'; } catch { return '?'; }
}

function renderLeft(left: Json): string {
  if (isObj(left)) {
    const meta = left.meta;
    if (isObj(meta) && typeof meta.key === 'string') return BARE_META.has(meta.key) ? meta.key : `meta ${meta.key}`;
    const payload = left.payload;
    if (isObj(payload) && typeof payload.protocol === 'string' && typeof payload.field === 'string') return `${payload.protocol} ${payload.field}`;
    const ct = left.ct;
    if (isObj(ct) && typeof ct.key === 'string') return `ct ${typeof ct.dir === 'string' ? `${ct.dir} ` : ''}${ct.key}`;
    const fib = left.fib;
    if (isObj(fib) && typeof fib.result === 'string') return `fib ${Array.isArray(fib.flags) ? fib.flags.join(' . ') + ' ' : ''}${fib.result}`;
  }
  return compact(left);
}

function renderValue(v: Json, quoted: boolean): string {
  if (typeof v === 'string') return quoted ? `"${v}"` : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.map((x) => renderValue(x, quoted)).join(',');
  if (isObj(v)) {
    if (isObj(v.prefix) && v.prefix.addr !== undefined) return `${renderValue(v.prefix.addr, false)}/${renderValue(v.prefix.len, false)}`;
    if (Array.isArray(v.range) && v.range.length === 2) return `${renderValue(v.range[0], quoted)}-${renderValue(v.range[1], quoted)}`;
    if (Array.isArray(v.set)) return `{ ${v.set.map((x) => renderValue(x, quoted)).join(', ')} }`;
  }
  return compact(v);
}

/** `80`, `22,80`, `1000:2000` — iptables' port syntax, whatever nft wrote. */
function portsText(v: Json): string | null {
  if (typeof v === 'number' || (typeof v === 'string' && /^\d+$/.test(v))) return String(v);
  if (typeof v === 'string') return v; // a named set: `@ports`
  if (isObj(v)) {
    if (Array.isArray(v.range) && v.range.length === 2) return `${v.range[0]}:${v.range[1]}`;
    if (Array.isArray(v.set)) {
      const parts = v.set.map(portsText);
      return parts.every((p) => p !== null) ? parts.join(',') : null;
    }
  }
  return null;
}

function addressText(v: Json): string | null {
  if (typeof v === 'string') return v;
  if (isObj(v)) {
    if (isObj(v.prefix)) return `${v.prefix.addr}/${v.prefix.len}`;
    if (Array.isArray(v.range) && v.range.length === 2) return `${v.range[0]}-${v.range[1]}`;
    if (Array.isArray(v.set)) return v.set.map(addressText).filter((x): x is string => x !== null).join(',') || null;
  }
  return null;
}

/** Fills `match` from one match expression when it places the rule on a path. */
function readMatch(m: NetfilterFacts['match'], e: Obj): void {
  const negated = e.op === '!=';
  const left = e.left;
  const right = e.right;
  if (!isObj(left)) return;
  if (isObj(left.meta) && typeof left.meta.key === 'string') {
    const key = left.meta.key;
    // `iifname { "ens5", "ens6" }` → `ens5,ens6`, as iptables has no such list.
    const names = typeof right === 'string' ? right
      : isObj(right) && Array.isArray(right.set) && right.set.every((x) => typeof x === 'string') ? right.set.join(',') : null;
    if (names === null) return;
    if (key === 'iifname' || key === 'iif') { m.inInterface = names; m.inNegated = negated; }
    else if (key === 'oifname' || key === 'oif') { m.outInterface = names; m.outNegated = negated; }
    else if (key === 'l4proto') { m.protocol = names; m.protocolNegated = negated; }
    return;
  }
  if (isObj(left.payload) && typeof left.payload.protocol === 'string' && typeof left.payload.field === 'string') {
    const { protocol, field } = left.payload;
    if ((protocol === 'ip' || protocol === 'ip6') && (field === 'saddr' || field === 'daddr')) {
      const a = addressText(right);
      if (field === 'saddr') { m.source = a; m.sourceNegated = negated; } else { m.destination = a; m.destinationNegated = negated; }
    } else if ((protocol === 'ip' && field === 'protocol') || (protocol === 'ip6' && field === 'nexthdr')) {
      if (typeof right === 'string') { m.protocol = right; m.protocolNegated = negated; }
    } else if (field === 'sport' || field === 'dport') {
      // `tcp dport 80` also says the protocol (nft adds the l4proto check itself); `th` does not.
      if (protocol !== 'th' && m.protocol === null) m.protocol = protocol;
      const p = portsText(right);
      if (field === 'sport') { m.sourcePorts = p; m.sourcePortsNegated = negated; } else { m.destinationPorts = p; m.destinationPortsNegated = negated; }
    }
  }
}

interface Rendered { text: string; verdict: NetfilterFacts['verdict']; target: string | null; packets: number | null; bytes: number | null }

const XT_VERDICTS: Readonly<Record<string, NetfilterFacts['verdict']>> = { REJECT: 'reject', DNAT: 'dnat', SNAT: 'snat', MASQUERADE: 'masquerade' };
const SIMPLE_VERDICTS: Readonly<Record<string, NetfilterFacts['verdict']>> = { accept: 'accept', drop: 'drop', return: 'return', reject: 'reject', masquerade: 'masquerade', dnat: 'dnat', snat: 'snat' };

/** Renders one rule's statements, and reads its verdict, counter and match. */
function renderRule(expr: readonly Json[], match: NetfilterFacts['match']): Rendered {
  const parts: string[] = [];
  const r: Rendered = { text: '', verdict: 'other', target: null, packets: null, bytes: null };
  for (const stmt of expr) {
    if (!isObj(stmt)) { parts.push(compact(stmt)); continue; }
    const [key] = Object.keys(stmt);
    const v = stmt[key];
    switch (key) {
      case 'match': {
        if (!isObj(v)) { parts.push(compact(stmt)); break; }
        readMatch(match, v);
        const left = renderLeft(v.left);
        const quoted = isObj(v.left) && isObj(v.left.meta) && NAME_KEYS.has(String(v.left.meta.key));
        const op = v.op === '==' || v.op === 'in' || v.op === undefined ? '' : `${String(v.op)} `;
        parts.push(`${left} ${op}${renderValue(v.right, quoted)}`);
        break;
      }
      case 'counter':
        if (isObj(v) && typeof v.packets === 'number' && r.packets === null) { r.packets = v.packets; r.bytes = typeof v.bytes === 'number' ? v.bytes : null; }
        parts.push(typeof v === 'string' ? `counter name "${v}"` : 'counter');
        break;
      case 'accept': case 'drop': case 'return': case 'continue':
        if (SIMPLE_VERDICTS[key]) { r.verdict = SIMPLE_VERDICTS[key]; r.target = null; }
        parts.push(key);
        break;
      case 'jump': case 'goto':
        if (isObj(v) && typeof v.target === 'string') { r.verdict = key; r.target = v.target; parts.push(`${key} ${v.target}`); } else parts.push(compact(stmt));
        break;
      case 'reject': {
        r.verdict = 'reject'; r.target = null;
        if (isObj(v) && typeof v.type === 'string') parts.push(`reject with ${v.type}${typeof v.expr === 'string' ? ` ${v.expr}` : ''}`);
        else parts.push('reject');
        break;
      }
      case 'masquerade':
        r.verdict = 'masquerade'; r.target = null;
        parts.push(isObj(v) && v.port !== undefined ? `masquerade to :${renderValue(v.port, false)}` : 'masquerade');
        break;
      case 'snat': case 'dnat': {
        r.verdict = key; r.target = null;
        if (isObj(v) && v.addr !== undefined) parts.push(`${key} to ${renderValue(v.addr, false)}${v.port !== undefined ? `:${renderValue(v.port, false)}` : ''}`);
        else parts.push(compact(stmt));
        break;
      }
      case 'log':
        parts.push(isObj(v) && typeof v.prefix === 'string' ? `log prefix "${v.prefix}"` : 'log');
        break;
      case 'limit':
        if (isObj(v) && v.rate !== undefined) parts.push(`limit rate ${v.inv ? 'over ' : ''}${String(v.rate)}/${String(v.per ?? 'second')}`);
        else parts.push(compact(stmt));
        break;
      case 'xt':
        // iptables-nft's compat expressions: only their name is in the JSON.
        if (isObj(v) && typeof v.name === 'string') {
          parts.push(`xt ${String(v.type ?? '')} ${v.name}`.replace(/\s+/g, ' '));
          if (v.type === 'target') { r.verdict = XT_VERDICTS[v.name] ?? 'other'; r.target = XT_VERDICTS[v.name] ? null : v.name; }
        } else parts.push(compact(stmt));
        break;
      default:
        parts.push(compact(stmt));
    }
  }
  r.text = parts.join(' ');
  return r;
}

/** Every `jump`/`goto` target anywhere in a rule (verdict maps included). */
function jumpTargets(v: Json, out: Set<string>): void {
  if (Array.isArray(v)) { for (const x of v) jumpTargets(x, out); return; }
  if (!isObj(v)) return;
  for (const [k, x] of Object.entries(v)) {
    if ((k === 'jump' || k === 'goto') && isObj(x) && typeof x.target === 'string') out.add(x.target);
    else jumpTargets(x, out);
  }
}

/** A chain's key (names may hold any character but NUL). */
function keyOf(family: string, table: string, chain: string): string {
  return `${family}\0${table}\0${chain}`;
}

export interface NftParseOptions {
  /**
   * Tables to leave out, as `{family, table}`: those iptables-save already gave (iptables-nft
   * keeps its tables in nf_tables, so `nft list ruleset` shows them again with xt expressions).
   */
  skipTables?: ReadonlyArray<{ family: string; table: string }>;
}

/**
 * Every rule and base-chain policy of `nft -j list ruleset`. Rules with a `counter` get its
 * values, others null; policies have no counter in nft (null). Never throws: output that is
 * not the expected JSON gives [].
 */
export function parseNftRuleset(json: string, options: NftParseOptions = {}): NetfilterFacts[] {
  let parsed: Json;
  try { parsed = JSON.parse(json); } catch { return []; }
  const list = isObj(parsed) && Array.isArray(parsed.nftables) ? parsed.nftables : [];
  const skip = new Set((options.skipTables ?? []).map((t) => `${t.family} ${t.table}`));

  interface ChainInfo { hook: string | null; type: string | null; prio: Json; policy: string | null }
  const chains = new Map<string, ChainInfo>(); // keyOf(family, table, chain)
  const rules: Array<{ family: string; table: string; chain: string; expr: Json[] }> = [];
  const chainOrder: string[] = [];
  for (const item of list) {
    if (!isObj(item)) continue;
    const c = item.chain;
    if (isObj(c) && typeof c.family === 'string' && typeof c.table === 'string' && typeof c.name === 'string') {
      if (skip.has(`${c.family} ${c.table}`)) continue;
      const key = keyOf(c.family, c.table, c.name);
      chains.set(key, {
        hook: typeof c.hook === 'string' ? c.hook : null, type: typeof c.type === 'string' ? c.type : null,
        prio: c.prio, policy: typeof c.policy === 'string' ? c.policy : null,
      });
      chainOrder.push(key);
      continue;
    }
    const rule = item.rule;
    if (isObj(rule) && typeof rule.family === 'string' && typeof rule.table === 'string' && typeof rule.chain === 'string') {
      if (skip.has(`${rule.family} ${rule.table}`)) continue;
      rules.push({ family: rule.family, table: rule.table, chain: rule.chain, expr: Array.isArray(rule.expr) ? rule.expr : [] });
    }
  }

  // Hooks: per table (jumps never leave their table).
  const own = new Map<string, string[]>();
  for (const [key, c] of chains) if (c.hook !== null) own.set(key, [c.hook]);
  const edges = new Map<string, Set<string>>();
  for (const r of rules) {
    const targets = new Set<string>();
    jumpTargets(r.expr, targets);
    const from = keyOf(r.family, r.table, r.chain);
    for (const t of targets) {
      let e = edges.get(from);
      if (!e) { e = new Set(); edges.set(from, e); }
      e.add(keyOf(r.family, r.table, t));
    }
  }
  const hooks = reachingHooks(own, edges);

  const out: NetfilterFacts[] = [];
  for (const key of chainOrder) {
    const c = chains.get(key) as ChainInfo;
    if (c.hook === null || c.policy === null) continue;
    const [family, table, chain] = key.split('\0');
    out.push({
      source: 'nft', family, table, chain, kind: 'policy',
      text: `type ${c.type ?? 'filter'} hook ${c.hook} priority ${typeof c.prio === 'number' ? c.prio : compact(c.prio)}; policy ${c.policy};`,
      verdict: c.policy === 'drop' ? 'drop' : c.policy === 'accept' ? 'accept' : 'other', target: null,
      hooks: hooks.get(key) ?? [], match: emptyMatch(), packets: null, bytes: null, packetsDelta: null,
    });
  }
  for (const r of rules) {
    const match = emptyMatch();
    const rendered = renderRule(r.expr, match);
    out.push({
      source: 'nft', family: r.family, table: r.table, chain: r.chain, kind: 'rule', text: rendered.text,
      verdict: rendered.verdict, target: rendered.target, hooks: hooks.get(keyOf(r.family, r.table, r.chain)) ?? [],
      match, packets: rendered.packets, bytes: rendered.bytes, packetsDelta: null,
    });
  }
  return out;
}
