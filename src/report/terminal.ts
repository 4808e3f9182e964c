/**
 * The terminal rendering of a follow result: the verdict table, the cause and the next
 * check, the route and the stitched in-host path. Pure: returns text; the CLI prints it.
 */
import type { FollowResult, LayerId, RowStatus, VerdictRow } from '../follow/index.js';
import { configCell, factText, fmtMs, hopLine, configHopText } from '../follow/index.js';
import { journeySteps } from './journeys.js';

export interface TerminalOptions {
  /** ANSI colours (only on a TTY). */
  color: boolean;
  /** Total width to fit the table in (default 100). */
  width?: number;
  /** Print every row's evidence under it. */
  verbose?: boolean;
  /** Only the table and the verdict (no route, no packets). */
  compact?: boolean;
}

const ANSI = { reset: '\x1b[0m', bold: '\x1b[1m', dim: '\x1b[2m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', cyan: '\x1b[36m' };

/** Status icon, 2 terminal columns wide (✅ ❌ are wide; ⚠ and · are padded). */
const STATUS_CELL: Record<RowStatus, { icon: string; color: keyof typeof ANSI }> = {
  pass: { icon: '✅', color: 'green' },
  fail: { icon: '❌', color: 'red' },
  warn: { icon: '⚠ ', color: 'yellow' },
  'not-checked': { icon: '· ', color: 'dim' },
};

/** Row names short enough to leave the evidence room in 100 columns. */
export const SHORT_TITLES: Record<LayerId, string> = {
  dns: 'DNS resolved',
  route: 'Route to the LB',
  loadBalancer: 'Load balancer',
  instance: 'Instance (uplink)',
  container: 'Container path',
  application: 'Application',
};

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (line.length === 0) line = word;
      else if (line.length + 1 + word.length <= width) line += ' ' + word;
      else { out.push(line); line = word; }
      while (line.length > width) { out.push(line.slice(0, width)); line = line.slice(width); }
    }
    out.push(line);
  }
  return out;
}

/** The short titles, with the instance's own interface names when the capture saw them (ens5, docker0 on EC2 with Docker). */
function titlesFor(result: FollowResult): Record<LayerId, string> {
  const s = result.server;
  const seen = (role: string): string | null => s?.interfaces.find((i) => i.role === role && i.packets > 0)?.iface ?? null;
  const uplink = seen('uplink');
  const bridge = seen('bridge');
  return {
    ...SHORT_TITLES,
    instance: uplink ? `Instance (${uplink})` : SHORT_TITLES.instance,
    container: bridge ? `Container (${bridge}/veth)` : SHORT_TITLES.container,
  };
}

export function renderTerminal(result: FollowResult, opts: TerminalOptions): string {
  const c = (color: keyof typeof ANSI, s: string): string => (opts.color ? `${ANSI[color]}${s}${ANSI.reset}` : s);
  const width = Math.max(60, opts.width ?? 100);
  const v = result.verdict;
  const out: string[] = [];

  out.push(result.source === 'explain'
    ? c('bold', `flowtrace explain ${result.url}`) + c('dim', `   from ${result.explain?.parts.length ?? 0} part${result.explain?.parts.length === 1 ? '' : 's'} of text`)
    : c('bold', `flowtrace follow ${result.url}`) + c('dim', `   ${result.startedAt}   ${fmtMs(result.durationMs)}${result.options.server ? `   server ${result.options.server}` : ''}`));
  out.push('');

  // the table: status | layer | evidence | [AWS config] | time
  const titles = titlesFor(result);
  const titleW = Math.max(...v.rows.map((r) => titles[r.layer].length));
  const statusW = 2;
  const timeW = 9;
  // The configuration's column only when there is one (--aws-config / --aws).
  const cfgW = v.rows.some((r) => r.config) ? Math.min(30, Math.max(12, ...v.rows.map((r) => (r.config ? configCell(r.config).length + 3 : 0)))) : 0;
  const cfgSep = cfgW > 0 ? 2 : 0;
  const evW = Math.max(24, width - (statusW + titleW + timeW + 6 + cfgW + cfgSep));
  const sep = c('dim', '─'.repeat(statusW + titleW + evW + timeW + 6 + cfgW + cfgSep));
  out.push(c('bold', `${'  '}  ${'LAYER'.padEnd(titleW)}  ${'EVIDENCE'.padEnd(evW)}  ${cfgW > 0 ? `${'AWS CONFIG'.padEnd(cfgW)}  ` : ''}${'TIME'.padStart(timeW - 1)}`));
  out.push(sep);
  for (const r of v.rows) out.push(...tableRow(r, titles[r.layer], { titleW, evW, timeW, statusW, cfgW }, c, opts.verbose === true));
  out.push(sep);

  // verdict, cause, next
  if (v.ok) {
    out.push(c('green', `✅ ${v.headline}`));
  } else {
    out.push(...wrap(`❌ ${v.headline}`, width).map((l, i) => c('red', i ? '   ' + l : l)));
    if (v.cause) out.push(...wrap(`cause: ${v.cause}`, width).map((l, i) => (i ? '       ' + l : c('bold', l))));
    if (v.partial) out.push(...wrap(`works: ${v.partial.working.join(', ')}; fails: ${v.partial.failing.map((f) => `${f.node ?? f.address}${f.zone ? ` (zone ${f.zone})` : ''} ${f.summary}`).join(', ')}`, width).map((l, i) => (i ? '       ' + l : l)));
    if (v.nextCheck) out.push(...wrap(`next:  ${v.nextCheck}`, width).map((l, i) => (i ? '       ' + l : l)));
  }
  // What the configuration says, in a line, when the cause does not already (healthy, or read but not placed).
  const aws = result.aws ?? null;
  if (aws && aws.status === 'error') out.push(c('yellow', `AWS configuration not read (${aws.from}): ${aws.error}`));
  else if (aws && v.config) {
    const hop = v.config.hop ? configHopText(v.config.hop) : null;
    const line = v.config.agreement === 'both-pass' ? `configuration: allows every hop (${aws.from})`
      : v.config.agreement === 'config-denies-passed' && v.ok ? `configuration denies it — ${hop} — yet the packets went through (${aws.from})`
        : v.config.agreement === 'not-determinable' && v.ok ? `configuration: not determinable — ${hop}` : null;
    if (line) out.push(...wrap(line, width).map((l, i) => c('dim', i ? '       ' + l : l)));
  }
  out.push(c('dim', `exit code ${v.exitCode}`));

  if (opts.compact) return out.join('\n') + '\n';

  // the route
  const traces = result.routes.filter((r) => r.hops.length > 0);
  if (traces.length) {
    out.push('', c('bold', 'Route'));
    for (const r of traces) {
      out.push(`  ${r.proto}${r.port !== null ? `/${r.port}` : ''} → ${r.address}: ${r.status === 'reached' ? `reached at hop ${r.reachedAtTtl}` : c('red', 'not reached')}`);
      out.push(...collapseStars(r.hops).map((l) => '    ' + l));
      if (r.explanation) out.push(c('dim', `    ${r.explanation}`));
    }
  }

  // the stitched path
  const s = result.server;
  if (s && s.status === 'ok') {
    out.push('', c('bold', `In-host path on ${s.target}`) + c('dim', s.matchedBy ? `  (request found by ${s.matchedBy === 'trace-id' ? `trace id ${s.traceId}` : s.matchedBy === 'request-line' ? 'its request line: method, path, Host' : 'timing: no HTTP got through'})` : `  (nothing of the request in the capture: ${s.capturedPackets} packets on the ports)`));
    for (const p of s.path) out.push('  ' + p);
    // The journey of each request's connection: every packet against the path it should take.
    for (const r of s.requests) {
      const j = r.journey;
      if (!j) continue;
      const q = result.requests.find((x) => x.traceId === r.traceRoot);
      out.push(c('dim', `  journey via ${q?.node ?? r.address}: ${j.client.address}:${j.client.port} → ${j.server.address}:${j.server.port}${j.serverInside ? ` ⇒ ${j.serverInside.address}:${j.serverInside.port}` : ''}`));
      for (const l of journeySteps(j, (color, t) => c(color, t))) out.push(`    ${l}`);
    }
    if (v.facts.length) {
      out.push(c('dim', '  host facts:'));
      for (const f of v.facts) out.push(...wrap(factText(f), width - 4).map((l) => `    ${l}`));
    }
    for (const m of s.nat) out.push(c('dim', `  NAT ${m.from} → ${m.to} (${m.between})`));
    if (s.packets.length) {
      // One line per packet, its copies on each interface after it (the ladder, as text).
      const ids = [...new Set(s.packets.map((p) => p.packetId))];
      const lastAddr: Record<string, string> = {};
      out.push(c('dim', `  packets (${ids.length}; copies per interface, ms since the first):`));
      for (const id of ids.slice(0, 30)) {
        const copies = s.packets.filter((p) => p.packetId === id).sort((a, b) => a.tMs - b.tMs);
        const first = copies[0]!;
        const hops = copies.map((p, i) => `${p.iface}${p.direction ? ` ${p.direction}` : ''}${i ? ` +${(p.tMs - first.tMs).toFixed(3)}` : ''}`).join(' → ');
        const dnat = copies.find((p) => p.dst !== first.dst);
        const snat = copies.find((p) => p.src !== first.src);
        const addr = `${first.src}${snat ? ` ⇒ ${snat.src}` : ''} → ${first.dst}${dnat ? ` ⇒ ${dnat.dst}` : ''}`;
        // Addresses once per direction (they repeat on every packet of the connection).
        const shown = addr === lastAddr[first.way] ? '' : `   ${c('dim', addr)}`;
        lastAddr[first.way] = addr;
        out.push(`    +${first.tMs.toFixed(3).padStart(8)}  ${first.label.padEnd(9)} ${hops}${shown}`);
      }
      if (ids.length > 30) out.push(c('dim', `    … ${ids.length - 30} more in --json / --report`));
    }
    for (const a of s.anomalies) out.push(c('yellow', `  ⚠ ${a}`));
  } else if (s && s.status === 'error') {
    out.push('', c('yellow', `server side not checked: ${s.target} failed: ${s.error}`));
  }
  return out.join('\n') + '\n';
}

/** Hop lines with runs of silent hops folded: ` 5–12  * * *`. */
function collapseStars(hops: FollowResult['routes'][number]['hops']): string[] {
  const out: string[] = [];
  for (let i = 0; i < hops.length; i++) {
    const h = hops[i]!;
    if (h.responders.length > 0 || h.flag) { out.push(hopLine(h)); continue; }
    let j = i;
    while (j + 1 < hops.length && hops[j + 1]!.responders.length === 0 && !hops[j + 1]!.flag) j++;
    out.push(j > i ? `${String(h.ttl).padStart(2)}–${hops[j]!.ttl}  * * *` : hopLine(h));
    i = j;
  }
  return out;
}

/** The configuration cell: ✓ allows, ✗ denies (and what), ? not determinable; empty for layers it does not see. */
const CONFIG_MARK = { allowed: { mark: '✓', color: 'green' }, denied: { mark: '✗', color: 'red' }, unknown: { mark: '?', color: 'yellow' } } as const;

function tableRow(
  r: VerdictRow,
  name: string,
  w: { titleW: number; evW: number; timeW: number; statusW: number; cfgW: number },
  c: (color: keyof typeof ANSI, s: string) => string,
  verbose: boolean,
): string[] {
  const cell = STATUS_CELL[r.status];
  const lines = wrap(r.summary, w.evW);
  const time = r.timingMs !== null ? fmtMs(r.timingMs) : '';
  const cfgLines = r.config && w.cfgW > 0 ? wrap(configCell(r.config), w.cfgW - 2) : [];
  while (lines.length < cfgLines.length) lines.push('');
  const out: string[] = [];
  lines.forEach((l, i) => {
    const status = i === 0 ? c(cell.color, cell.icon) : '  ';
    const title = (i === 0 ? name : '').padEnd(w.titleW);
    const t = i === 0 ? time.padStart(w.timeW - 1) : '';
    const text = r.status === 'not-checked' ? c('dim', l.padEnd(w.evW)) : l.padEnd(w.evW);
    let cfg = '';
    if (w.cfgW > 0) {
      const m = r.config ? CONFIG_MARK[r.config.status] : null;
      const body = cfgLines[i] ?? '';
      cfg = m && body ? `${i === 0 ? c(m.color, m.mark) : ' '} ${body.padEnd(w.cfgW - 2)}  ` : `${' '.repeat(w.cfgW)}  `;
    }
    out.push(`${status}  ${i === 0 && r.status === 'fail' ? c('bold', title) : title}  ${text}  ${cfg}${t}`.trimEnd());
  });
  if (verbose) {
    if (r.config) for (const l of wrap(`AWS configuration: ${r.config.summary}`, w.evW + w.titleW)) out.push(c('dim', `${' '.repeat(w.statusW + 4)}${l}`));
    for (const e of r.evidence) for (const l of wrap(e, w.evW + w.titleW)) out.push(c('dim', `${' '.repeat(w.statusW + 4)}${l}`));
  }
  return out;
}
