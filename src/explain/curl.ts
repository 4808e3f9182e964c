/**
 * What curl printed → follow's RequestEvidence, one per address curl tried (curl 7.88–8.x):
 *
 *   -v    `*   Trying 10.77.1.10:80...`, `* connect to 10.77.2.10 port 80 failed: Connection
 *         refused`, `* ipv4 connect timeout after 4999ms, move on!`, `* Connected to
 *         seqas.online (10.77.1.10) port 80 (#0)`, `> GET / HTTP/1.1`, `> Host: …`,
 *         `< HTTP/1.1 504 Gateway Timeout`, `< Server: awselb/2.0`, the body, `* SSL connection
 *         using …` (TLS), `curl: (28) …` (the error), and the progress meter (ignored)
 *   -w    `name: value` lines of curl's write-out variables (time_namelookup, time_connect,
 *         time_appconnect, time_pretransfer, time_starttransfer, time_total, http_code,
 *         remote_ip, remote_port, local_ip, local_port, url_effective…), as curl-format.txt
 *         files print them; `=` works too. Times are seconds since the start (cumulative).
 * An address curl gave up on (refused, timed out, unreachable) is a request that failed there;
 * the one it connected to carries the HTTP answer — as follow sends one request per address.
 * curl sends no X-Amzn-Trace-Id unless told (`-H`): the request is then found on the instance
 * by its request line (method, path, Host).
 */
import type { RequestEvidence } from '../follow/index.js';

export interface CurlReading {
  requests: RequestEvidence[];
  /** scheme://host:port/path, as far as the output says. */
  url: { scheme: 'http' | 'https'; host: string | null; port: number | null; path: string | null };
  /** The request line sent (to find it on the instance). */
  requestLine: { method: string; target: string; host: string | null } | null;
  summary: string;
}

function emptyRequest(address: string, port: number): RequestEvidence {
  return {
    address, port, node: null, zone: null, sentAt: null, traceId: '', localAddress: null, status: 'error',
    httpStatus: null, reason: null, serverHeader: null,
    phases: { dnsMs: null, connectMs: null, tlsMs: null, firstByteMs: null, downloadMs: null, totalMs: null },
    error: null, bodyPreview: null,
  };
}

/** curl's exit code and message → the http layer's codes (so the verdict reads them as follow's). */
function errorOf(code: number, message: string): { code: string; phase: string | null } {
  if (code === 6 || /Could not resolve host/i.test(message)) return { code: 'HTTP_DNS', phase: 'dns' };
  if (/No route to host|Network is unreachable|Host is unreachable/i.test(message)) return { code: 'HTTP_UNREACHABLE', phase: 'connect' };
  if (/refused|Couldn't connect to server/i.test(message)) return { code: 'HTTP_CONNECT_REFUSED', phase: 'connect' };
  if (code === 28 || /timed out|Timeout was reached/i.test(message)) {
    // "Connection timed out after N ms" / "Failed to connect … Timeout": the connect; "Operation
    // timed out after N ms with 0 bytes received": the answer.
    return { code: 'HTTP_TIMEOUT', phase: /Operation timed out|bytes received|out of \d+ bytes/i.test(message) ? 'first_byte' : 'connect' };
  }
  if (code === 52 || /Empty reply/i.test(message)) return { code: 'HTTP_EMPTY_REPLY', phase: 'first_byte' };
  if (code === 56 || /reset by peer/i.test(message)) return { code: 'HTTP_RESET', phase: 'first_byte' };
  if (code === 35 || code === 60 || /SSL|TLS|certificate/i.test(message)) return { code: 'TLS_ERROR', phase: 'tls' };
  return { code: `CURL_${code}`, phase: null };
}

const afterMs = (message: string): number | null => {
  const m = /after (\d+) ms|after (\d+) milliseconds/.exec(message);
  return m ? Number(m[1] ?? m[2]) : null;
};

/** A line of curl's progress meter: `100   312  100   312    0     0   9452      0 --:--:-- --:--:-- --:--:--  9750`. */
const METER = /^\s*\d+\s+\d+(?:\.\d+)?[kMG]?\s+\d+\s+\d+(?:\.\d+)?[kMG]?\s+\d+\s+\d+(?:\.\d+)?[kMG]?\s+\d+(?:\.\d+)?[kMG]?\s+\d+(?:\.\d+)?[kMG]?\s+[\d:-]+\s+[\d:-]+\s+[\d:-]+\s+\d+(?:\.\d+)?[kMG]?\s*$/;

/** Strips `--trace-time`'s leading time and the progress meter glued to a line's start. */
function clean(line: string): string {
  // The meter is digits, spaces, k/M/G, colons and dashes; curl redraws it with \r, and the
  // next verbose line can follow it on the same line of a pasted terminal.
  return line.replace(/^\d{2}:\d{2}:\d{2}\.\d{6} /, '').replace(/^[\d\s.kMG:-]+?(?=\* |\*\s|< |> |\{ \[|\} \[|curl: \()/, '');
}

export function readCurlVerbose(lines: readonly string[], args: readonly string[]): CurlReading {
  const requests: RequestEvidence[] = [];
  let trying: RequestEvidence | null = null;
  let connected: RequestEvidence | null = null;
  let scheme: 'http' | 'https' = args.some((a) => /^https:\/\//.test(a)) ? 'https' : 'http';
  let host: string | null = null;
  let port: number | null = null;
  let method: string | null = null;
  let target: string | null = null;
  let reqHost: string | null = null;
  let traceId: string | null = null;
  let inBody = false;
  const body: string[] = [];
  const urlArg = args.find((a) => /^https?:\/\//.test(a)) ?? null;
  for (const raw of lines) {
    const line = clean(raw);
    let m: RegExpExecArray | null;
    if ((m = /^\*\s+Trying (\S+?):(\d+)\.\.\./.exec(line)) || (m = /^\*\s+Trying \[?([^\]\s]+)\]?:(\d+)/.exec(line))) {
      const address = m[1]!.replace(/^\[|\]$/g, '');
      trying = requests.find((q) => q.address === address) ?? emptyRequest(address, Number(m[2]));
      if (!requests.includes(trying)) requests.push(trying);
      port = Number(m[2]);
      inBody = false;
      continue;
    }
    if ((m = /^\* (?:connect to (\S+) port (\d+) failed|Immediate connect fail for (\S+)): (.*)$/.exec(line))) {
      const address = m[1] ?? m[3]!;
      const q = requests.find((x) => x.address === address) ?? emptyRequest(address, Number(m[2] ?? port ?? 0));
      if (!requests.includes(q)) requests.push(q);
      q.error = { code: errorOf(7, m[4]!).code, phase: 'connect', message: m[4]! };
      continue;
    }
    if ((m = /^\* (?:ipv[46] )?connect timeout after (\d+)ms, move on!/.exec(line))) {
      if (trying) { trying.error = { code: 'HTTP_TIMEOUT', phase: 'connect', message: `connect timeout after ${m[1]} ms` }; trying.phases.totalMs = Number(m[1]); }
      continue;
    }
    if ((m = /^\* Connected to (\S+) \(([^)]+)\) port (\d+)/.exec(line))) {
      host = m[1]!;
      const address = m[2]!;
      connected = requests.find((q) => q.address === address) ?? emptyRequest(address, Number(m[3]));
      if (!requests.includes(connected)) requests.push(connected);
      connected.port = Number(m[3]);
      connected.error = null;
      port = Number(m[3]);
      continue;
    }
    if (/^\* (?:SSL connection using|ALPN|TLSv1\.\d|Server certificate:)/.test(line)) { scheme = 'https'; continue; }
    if ((m = /^> ([A-Z]+) (\S+) HTTP\/[\d.]+$/.exec(line))) { method = m[1]!; target = m[2]!; continue; }
    if ((m = /^> Host: (\S+)/i.exec(line))) { reqHost = m[1]!; continue; }
    if ((m = /^> X-Amzn-Trace-Id: (?:.*?Root=)?([^;\s]+)/i.exec(line))) { traceId = m[1]!; continue; }
    if ((m = /^< HTTP\/[\d.]+ (\d{3})(?: (.*))?$/.exec(line))) {
      const q = connected ?? trying ?? (requests.push(emptyRequest('?', port ?? 0)), requests[requests.length - 1]!);
      q.httpStatus = Number(m[1]);
      q.reason = m[2]?.trim() || null;
      q.status = 'ok';
      q.error = null;
      continue;
    }
    if ((m = /^< Server: (.*)$/i.exec(line))) { (connected ?? trying)!.serverHeader = m[1]!.trim(); continue; }
    if (/^< \s*$/.test(line)) { inBody = true; continue; }
    if ((m = /^curl: \((\d+)\) (.*)$/.exec(line))) {
      const { code, phase } = errorOf(Number(m[1]), m[2]!);
      // The error is the last address's (curl names the host, not the address).
      const q = [...requests].reverse().find((x) => x.httpStatus === null) ?? (requests.push(emptyRequest(host ?? '?', port ?? 0)), requests[requests.length - 1]!);
      // curl's last line is general ("Couldn't connect to server"); the address's own line said why.
      if (q.error === null || q.error.code === 'HTTP_TIMEOUT' && code === 'HTTP_TIMEOUT') q.error = { code, phase, message: m[2]! };
      q.phases.totalMs = afterMs(m[2]!) ?? q.phases.totalMs;
      continue;
    }
    if (/^\* (?:Could not resolve host|Closing connection|Connection #\d+ to host)/.test(line)) {
      if (/Could not resolve host/.test(line) && requests.length === 0) {
        const q = emptyRequest(host ?? '?', port ?? 0);
        q.error = { code: 'HTTP_DNS', phase: 'dns', message: line.replace(/^\* /, '') };
        requests.push(q);
      }
      inBody = false;
      continue;
    }
    if (/^[*<>{}] |^\s*% Total|^\s*Dload/.test(line) || METER.test(line)) continue;
    if (inBody && line.trim() !== '' && body.join('\n').length < 400) body.push(line);
  }
  const answered = requests.find((q) => q.httpStatus !== null);
  if (answered && body.length > 0) answered.bodyPreview = body.join('\n').slice(0, 200);
  if (urlArg) {
    try {
      const u = new URL(urlArg);
      host ??= u.hostname;
      port ??= u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
      target ??= `${u.pathname}${u.search}`;
    } catch { /* the output says it */ }
  }
  requests.forEach((q, k) => { q.traceId = traceId ?? `curl#${k + 1}`; });
  const urlHost = host ?? reqHost?.replace(/:\d+$/, '') ?? null;
  const summary = requests.length === 0 ? 'no request' : requests.map((q) => q.httpStatus !== null ? `${q.address}: HTTP ${q.httpStatus}${q.serverHeader ? ` (${q.serverHeader})` : ''}` : `${q.address}: ${q.error?.code ?? 'error'}${q.error?.phase ? ` during ${q.error.phase}` : ''}`).join('; ');
  return {
    requests, summary,
    url: { scheme, host: urlHost, port, path: target },
    requestLine: method && target ? { method, target, host: reqHost } : null,
  };
}

export function readCurlWriteOut(lines: readonly string[]): CurlReading {
  const v: Record<string, string> = {};
  for (const raw of lines) {
    const m = /^\s*([a-z_]+)\s*[:=]\s*(\S.*?)\s*$/.exec(raw);
    if (m) v[m[1]!] = m[2]!;
  }
  const sec = (name: string): number | null => (v[name] !== undefined && Number.isFinite(Number(v[name])) ? Number(v[name]) * 1000 : null);
  const status = Number(v.http_code ?? v.response_code ?? NaN);
  const address = v.remote_ip ?? '?';
  const port = v.remote_port ? Number(v.remote_port) : null;
  const q = emptyRequest(address, port ?? 0);
  const dns = sec('time_namelookup');
  const connect = sec('time_connect');
  const app = sec('time_appconnect');
  const pre = sec('time_pretransfer');
  const start = sec('time_starttransfer');
  const total = sec('time_total');
  const diff = (a: number | null, b: number | null): number | null => (a !== null && b !== null && a > 0 ? Number(Math.max(0, a - b).toFixed(3)) : null);
  q.phases = {
    dnsMs: dns, connectMs: diff(connect, dns), tlsMs: app ? diff(app, connect) : null,
    firstByteMs: diff(start, pre ?? app ?? connect), downloadMs: diff(total, start), totalMs: total,
  };
  if (Number.isFinite(status) && status > 0) { q.httpStatus = status; q.status = 'ok'; }
  else q.error = { code: v.exitcode ? `CURL_${v.exitcode}` : 'HTTP_ERROR', phase: null, message: v.errormsg ?? 'no HTTP status (http_code 000)' };
  q.localAddress = v.local_ip && v.local_port ? `${v.local_ip}:${v.local_port}` : null;
  q.traceId = 'curl#1';
  let url: CurlReading['url'] = { scheme: 'http', host: null, port, path: null };
  if (v.url_effective) {
    try {
      const u = new URL(v.url_effective);
      url = { scheme: u.protocol === 'https:' ? 'https' : 'http', host: u.hostname, port: port ?? (u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80), path: `${u.pathname}${u.search}` };
    } catch { /* not a URL */ }
  }
  const summary = q.httpStatus !== null ? `HTTP ${q.httpStatus}${total !== null ? `, total ${total.toFixed(1)} ms` : ''}` : q.error!.message;
  return { requests: q.httpStatus !== null || address !== '?' ? [q] : [], url, requestLine: null, summary };
}
