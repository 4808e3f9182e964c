/**
 * The text a dig / nslookup user reads at once: the question, the answers with TTL and type
 * (dig's column layout), the status, flags, the server that answered, the time, what the
 * addresses are. Returns a string; only the CLI prints.
 */
import { formatServer } from './resolvconf.js';
import type { DnsQueryResult, DnsRecord, DnsResult } from './types.js';

function fqdn(name: string): string {
  return name === '' ? '.' : `${name}.`;
}

const NAME_DATA_TYPES = new Set(['CNAME', 'DNAME', 'NS', 'PTR']);

/** A record's data as dig prints it: names as FQDNs (with the trailing dot). */
function recordData(r: DnsRecord): string {
  return NAME_DATA_TYPES.has(r.type) ? fqdn(r.data) : r.type === 'MX' || r.type === 'SRV' ? r.data.replace(/(\S+)$/, (n) => fqdn(n)) : r.data;
}

function recordLine(r: DnsRecord, nameWidth: number): string {
  return `${fqdn(r.name).padEnd(nameWidth)}  ${String(r.ttl).padStart(6)}  IN  ${r.type.padEnd(6)} ${recordData(r)}`;
}

/** `dig +short`: the data of every answer record, one per line (CNAME targets, then addresses); empty when none. */
export function renderDnsShort(result: DnsResult): string {
  return result.answers.map((r) => `${recordData(r)}\n`).join('');
}

function flagsText(q: DnsQueryResult): string {
  if (!q.flags) return '';
  const names = ['qr', ...(['aa', 'tc', 'rd', 'ra', 'ad', 'cd'] as const).filter((f) => q.flags![f])];
  return names.join(' ');
}

function queryStatus(q: DnsQueryResult): string {
  switch (q.status) {
    case 'ok': return `${q.rcode} (${q.answers.filter((r) => r.type === q.type).length} ${q.type})`;
    case 'nodata': return `${q.rcode} (no ${q.type} data)`;
    case 'timeout': return 'TIMEOUT (no answer)';
    case 'unreachable': return 'UNREACHABLE (resolver)';
    case 'error': return q.rcode ? q.rcode : 'ERROR';
    default: return q.rcode ?? q.status.toUpperCase();
  }
}

function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : value < 100 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

export function renderDnsResult(result: DnsResult): string {
  const lines: string[] = [];
  const qWidth = Math.max(24, fqdn(result.name).length);
  lines.push(';; QUESTION');
  for (const type of result.types) lines.push(`${fqdn(result.name).padEnd(qWidth)}          IN  ${type}`);
  lines.push('');
  if (result.answers.length > 0) {
    const width = Math.max(24, ...result.answers.map((r) => fqdn(r.name).length));
    lines.push(';; ANSWER');
    for (const r of result.answers) lines.push(recordLine(r, width));
    lines.push('');
  }
  const authorities = result.status === 'ok' ? [] : result.queries.flatMap((q) => q.authorities);
  if (authorities.length > 0) {
    const width = Math.max(24, ...authorities.map((r) => fqdn(r.name).length));
    lines.push(';; AUTHORITY');
    for (const r of authorities.filter((r, i) => authorities.findIndex((o) => o.name === r.name && o.data === r.data) === i)) lines.push(recordLine(r, width));
    lines.push('');
  }
  const statuses = result.queries.map((q) => `${q.type} ${queryStatus(q)}`);
  const allSameRcode = result.queries.every((q) => q.rcode !== null && q.rcode === result.queries[0].rcode && q.status === result.queries[0].status);
  lines.push(`status: ${allSameRcode ? result.queries[0].rcode : statuses.join(', ')}${result.status === 'ok' ? '' : `  → ${result.status}`}`);
  const flags = result.queries.find((q) => q.flags !== null);
  if (flags) lines.push(`flags: ${flagsText(flags)}`);
  const servers = [...new Set(result.queries.filter((q) => q.server).map((q) => `${formatServer(q.server!)} (${q.transport})`))];
  if (servers.length > 0) lines.push(`server: ${servers.join(', ')}`);
  const perQuery = result.queries.length > 1 ? ` (${result.queries.map((q) => `${q.type} ${ms(q.elapsedMs)}${q.attempts > 1 ? `, ${q.attempts} tries` : ''}`).join(', ')})` : result.queries[0] && result.queries[0].attempts > 1 ? ` (${result.queries[0].attempts} tries)` : '';
  lines.push(`time: ${ms(result.elapsedMs)}${perQuery}`);
  if (result.cnameChain.length > 1) lines.push(`cname chain: ${result.cnameChain.join(' → ')}`);
  if (result.classification.length > 0) {
    lines.push('', 'addresses:');
    const width = Math.max(...result.classification.map((c) => c.address.length));
    for (const c of result.classification) lines.push(`  ${c.address.padEnd(width)}  ${c.kind}${c.range ? `  ${c.range}` : ''}`);
  }
  if (result.notes.length > 0) {
    lines.push('', 'notes:');
    for (const n of result.notes) lines.push(`  - ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
