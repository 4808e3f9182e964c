/**
 * The text of one probe: the status line, the trace id, the addresses really used, the TLS
 * session, a phase table with curl's -w names (cumulative `at` and per-phase `took`), the
 * response headers (redacted) and the first bytes of the body. Returns a string; only the
 * CLI prints.
 */
import type { HttpPhase, HttpResult } from './types.js';

function ms(value: number | null): string {
  if (value === null) return '—';
  return value < 10 ? `${value.toFixed(2)} ms` : value < 1000 ? `${value.toFixed(1)} ms` : `${(value / 1000).toFixed(3)} s`;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

interface Row { variable: string; phase: HttpPhase; at: number | null; took: number | null; what: string }

export interface RenderHttpOptions {
  /** Also show the request as sent (`> ` lines, credentials redacted), like curl -v. */
  verbose?: boolean;
}

export function renderHttpResult(r: HttpResult, options: RenderHttpOptions = {}): string {
  const lines: string[] = [];
  if (options.verbose) {
    const url = new URL(r.url);
    lines.push(`> ${r.method} ${url.pathname}${url.search} HTTP/1.1`);
    for (const h of r.requestHeaders) lines.push(`> ${h.name}: ${h.value}`);
    lines.push('>');
  }
  if (r.statusCode !== null) lines.push(`HTTP/${r.httpVersion ?? '1.1'} ${r.statusCode} ${r.reason ?? ''}`.trimEnd());
  else lines.push(`${r.method} ${r.url}: no response (${r.error?.code ?? 'error'} during ${r.error?.phase ?? '?'})`);
  lines.push(`trace id: ${r.traceId}`);
  const via = r.resolvedBy === 'resolve-option' ? ' (from --resolve)' : r.resolvedBy === 'literal' ? '' : ' (from DNS)';
  if (r.remote) {
    lines.push(`connected: ${r.local ? hostPort(r.local.address, r.local.port) : '?'} → ${hostPort(r.remote.address, r.remote.port)}${via}`);
  } else if (r.addresses.length > 0) {
    lines.push(`address: ${r.addresses[0]}${via}`);
  }
  if (r.addresses.length > 1) lines.push(`addresses: ${r.addresses.join(', ')} (the first was used; try others with --resolve)`);
  if (r.tls) {
    const tls = r.tls;
    const verified = tls.authorized ? 'verified' : `NOT verified (${tls.authorizationError ?? 'unknown'})`;
    lines.push(`tls: ${tls.protocol ?? '?'} ${tls.cipher ?? ''}${tls.alpn ? `, alpn ${tls.alpn}` : ''}, ${verified}`);
    if (tls.subject) lines.push(`  subject: ${tls.subject}`);
    if (tls.issuer) lines.push(`  issuer:  ${tls.issuer}`);
    if (tls.subjectAltNames.length > 0) lines.push(`  names:   ${tls.subjectAltNames.join(', ')}`);
    if (tls.validFrom && tls.validTo) lines.push(`  valid:   ${tls.validFrom.slice(0, 10)} → ${tls.validTo.slice(0, 10)}`);
  }

  const t = r.timings;
  const p = r.phases;
  const https = r.url.startsWith('https:');
  const rows: Row[] = [
    { variable: 'time_namelookup', phase: 'dns', at: t.namelookupMs, took: p.dnsMs, what: r.resolvedBy === 'dns' ? 'name lookup' : r.resolvedBy === 'resolve-option' ? 'name lookup (--resolve)' : 'name lookup (IP literal)' },
    { variable: 'time_connect', phase: 'connect', at: t.connectMs, took: p.connectMs, what: 'TCP handshake' },
    ...(https ? [{ variable: 'time_appconnect', phase: 'tls' as const, at: t.appconnectMs, took: p.tlsMs, what: 'TLS handshake' }] : []),
    { variable: 'time_pretransfer', phase: 'send', at: t.pretransferMs, took: p.sendMs, what: 'request sent' },
    { variable: 'time_starttransfer', phase: 'first_byte', at: t.starttransferMs, took: p.waitMs, what: 'first byte (server time + 1 RTT)' },
    { variable: 'time_total', phase: 'download', at: r.status === 'ok' ? t.totalMs : null, took: p.downloadMs, what: r.status === 'ok' ? `download (${r.bodyBytes} bytes)` : 'download' },
  ];
  lines.push('', `${'phase'.padEnd(20)}${'at'.padStart(11)}${'took'.padStart(11)}`);
  for (const row of rows) {
    const failed = r.error !== null && r.error.phase === row.phase;
    const note = failed ? `← ${r.error!.code === 'HTTP_TIMEOUT' ? 'timed out here' : `failed here (${r.error!.code})`}` : row.what;
    lines.push(`${row.variable.padEnd(20)}${ms(row.at).padStart(11)}${ms(row.took).padStart(11)}   ${note}`);
  }
  if (r.status !== 'ok') lines.push(`${'(total)'.padEnd(20)}${ms(t.totalMs).padStart(11)}`);

  if (r.headers.length > 0) {
    lines.push('', 'response headers:');
    for (const h of r.headers) lines.push(`  ${h.name}: ${h.value}`);
  }
  if (r.statusCode !== null) {
    const preview = r.bodyHead.replace(/\s+/g, ' ').trim().slice(0, 100);
    lines.push('', `body: ${r.bodyBytes} bytes${preview ? `  "${preview}${r.bodyHead.length > 100 || r.bodyTruncated ? '…' : ''}"` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
