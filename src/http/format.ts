/**
 * The text of one probe: the connect attempts in curl -v's words (when there were several,
 * or with -v, then also the request and response heads as `> ` / `< ` lines), the status
 * line, the trace id, the addresses really used, the TLS session, a phase table with curl's
 * -w names (cumulative `at` and per-phase `took`), the response headers (redacted) and the
 * first bytes of the body. Returns a string; only the CLI prints.
 */
import type { HttpConnectAttempt, HttpPhase, HttpResult } from './types.js';

function ms(value: number | null): string {
  if (value === null) return '—';
  return value < 10 ? `${value.toFixed(2)} ms` : value < 1000 ? `${value.toFixed(1)} ms` : `${(value / 1000).toFixed(3)} s`;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** strerror(3) words, as curl prints them after "failed: ". */
const ERRNO_WORDS: Record<string, string> = {
  ECONNREFUSED: 'Connection refused',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EHOSTDOWN: 'Host is down',
  ENETDOWN: 'Network is down',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  ETIMEDOUT: 'Connection timed out',
};

/**
 * The connect attempts in curl -v's words ("*   Trying A:P...", "* connect to A port P
 * failed: Connection refused", "* Connected to HOST (A) port P"), each with its time.
 */
function attemptLines(r: HttpResult, host: string): string[] {
  const lines: string[] = [];
  for (const a of r.connectAttempts) {
    lines.push(`*   Trying ${hostPort(a.address, a.port)}...`);
    lines.push(attemptOutcome(a, host));
  }
  const failed = r.connectAttempts.length > 1 && r.connectAttempts.every((a) => a.outcome !== 'connected');
  if (failed) lines.push(`* Failed to connect to ${host} port ${r.connectAttempts[0].port} after ${Math.round(r.timings.totalMs)} ms: Couldn't connect to server`);
  return lines;
}

function attemptOutcome(a: HttpConnectAttempt, host: string): string {
  const took = `(${ms(a.durationMs)})`;
  switch (a.outcome) {
    case 'connected': return `* Connected to ${host} (${a.address}) port ${a.port} ${took}`;
    case 'timeout': return `* connect to ${a.address} port ${a.port} failed: Connection timed out ${took}`;
    case 'aborted': return `* connect to ${a.address} port ${a.port} aborted ${took}`;
    case 'abandoned': return `* connect to ${a.address} port ${a.port} abandoned: the other family connected first ${took}`;
    default: return `* connect to ${a.address} port ${a.port} failed: ${ERRNO_WORDS[a.cause ?? ''] ?? a.cause ?? 'error'} ${took}`;
  }
}

interface Row { variable: string; phase: HttpPhase; at: number | null; took: number | null; what: string }

export interface RenderHttpOptions {
  /**
   * Show the exchange as curl -v does first: the connect attempts (`* `), the request as sent
   * (`> `, credentials redacted), the response head (`< `, in place of the headers block).
   */
  verbose?: boolean;
}

export function renderHttpResult(r: HttpResult, options: RenderHttpOptions = {}): string {
  const lines: string[] = [];
  const url = new URL(r.url);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // curl -v shows every attempt; without -v they are shown when more than one was made.
  if (options.verbose || r.connectAttempts.length > 1) lines.push(...attemptLines(r, host));
  if (options.verbose) {
    lines.push(`> ${r.method} ${url.pathname}${url.search} HTTP/1.1`);
    for (const h of r.requestHeaders) lines.push(`> ${h.name}: ${h.value}`);
    lines.push('>');
    if (r.requestBodyBytes > 0) lines.push(`} [${r.requestBodyBytes} bytes data]`);
    if (r.statusCode !== null) {
      lines.push(`< HTTP/${r.httpVersion ?? '1.1'} ${r.statusCode} ${r.reason ?? ''}`.trimEnd());
      for (const h of r.headers) lines.push(`< ${h.name}: ${h.value}`);
      lines.push('<');
    }
    lines.push('');
  }
  if (r.statusCode !== null) lines.push(`HTTP/${r.httpVersion ?? '1.1'} ${r.statusCode} ${r.reason ?? ''}`.trimEnd());
  else lines.push(`${r.method} ${r.url}: no response (${r.error?.code ?? 'error'} during ${r.error?.phase ?? '?'})`);
  lines.push(`trace id: ${r.traceId}`);
  const via = r.resolvedBy === 'resolve-option' ? ' (from --resolve)' : r.resolvedBy === 'literal' ? '' : ' (from DNS)';
  if (r.remote) {
    lines.push(`connected: ${r.local ? hostPort(r.local.address, r.local.port) : '?'} → ${hostPort(r.remote.address, r.remote.port)}${via}`);
  } else if (r.addresses.length === 1) {
    lines.push(`address: ${r.addresses[0]}${via}`);
  }
  const he = r.happyEyeballs;
  if (he) {
    const other = he.firstFamily === 6 ? 4 : 6;
    const used = he.familyUsed === null ? 'neither family connected'
      : he.familyUsed === he.firstFamily ? `IPv${he.familyUsed} used, nothing lost`
      : `IPv${he.familyUsed} used; IPv${he.firstFamily} cost ${ms(he.lostMs)} before it`;
    lines.push(`addresses: ${r.addresses.join(', ')} (happy eyeballs: IPv${he.firstFamily} first, IPv${other} after ${he.delayMs} ms or when IPv${he.firstFamily} failed; ${used})`);
  } else if (r.addresses.length > 1) lines.push(`addresses: ${r.addresses.join(', ')} (tried in this order until one connects; pin one with --resolve)`);
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
    ...(r.connectAttempts.length > 1 ? [failedConnectsRow(r)] : []),
    { variable: 'time_connect', phase: 'connect', at: t.connectMs, took: p.connectMs, what: r.connectAttempts.length > 1 && r.remote ? `TCP handshake (${hostPort(r.remote.address, r.remote.port)})` : 'TCP handshake' },
    ...(https ? [{ variable: 'time_appconnect', phase: 'tls' as const, at: t.appconnectMs, took: p.tlsMs, what: 'TLS handshake' }] : []),
    { variable: 'time_pretransfer', phase: 'send', at: t.pretransferMs, took: p.sendMs, what: 'request sent' },
    { variable: 'time_starttransfer', phase: 'first_byte', at: t.starttransferMs, took: p.waitMs, what: 'first byte (server time + 1 RTT)' },
    { variable: 'time_total', phase: 'download', at: r.status === 'ok' ? t.totalMs : null, took: p.downloadMs, what: r.status === 'ok' ? `download (${r.bodyBytes} bytes)` : 'download' },
  ];
  lines.push('', `${'phase'.padEnd(20)}${'at'.padStart(11)}${'took'.padStart(11)}`);
  for (const row of rows) {
    const failed = r.error !== null && r.error.phase === row.phase;
    const note = failed && !row.variable.startsWith('(') ? `← ${r.error!.code === 'HTTP_TIMEOUT' ? 'timed out here' : `failed here (${r.error!.code})`}` : row.what;
    lines.push(`${row.variable.padEnd(20)}${ms(row.at).padStart(11)}${ms(row.took).padStart(11)}   ${note}`);
  }
  if (r.status !== 'ok') lines.push(`${'(total)'.padEnd(20)}${ms(t.totalMs).padStart(11)}`);

  if (r.headers.length > 0 && !options.verbose) {
    lines.push('', 'response headers:');
    for (const h of r.headers) lines.push(`  ${h.name}: ${h.value}`);
  }
  if (r.statusCode !== null) {
    const preview = r.bodyHead.replace(/\s+/g, ' ').trim().slice(0, 100);
    lines.push('', `body: ${r.bodyBytes} bytes${preview ? `  "${preview}${r.bodyHead.length > 100 || r.bodyTruncated ? '…' : ''}"` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The time spent on addresses that did not connect, as its own row before time_connect. */
function failedConnectsRow(r: HttpResult): Row {
  const failed = r.connectAttempts.filter((a) => a.outcome !== 'connected');
  const used = r.connectAttempts.find((a) => a.outcome === 'connected');
  const at = used ? used.startMs : r.connectAttempts.at(-1)!.startMs + r.connectAttempts.at(-1)!.durationMs;
  const words = failed.map((a) => `${a.address} ${a.outcome === 'timeout' ? 'timed out' : a.outcome}`).join(', ');
  // Happy eyeballs: attempts overlap, the row is the time before the one used started.
  const what = r.happyEyeballs ? `before the connection used (happy eyeballs): ${words || 'none failed'}` : `${failed.length} address${failed.length === 1 ? '' : 'es'}: ${words}`;
  return { variable: '(failed connects)', phase: 'connect', at, took: r.phases.failedConnectsMs, what };
}
