/**
 * One timed HTTP/1.1 request, HTTP or HTTPS, with every phase measured from socket events on a
 * monotonic clock (performance.now): the name lookup, the TCP handshake ('connect'), the TLS
 * handshake ('secureConnect'), the request handed to the kernel (request 'finish'), the first
 * response byte (the socket's first 'data') and the end of the body. The TCP and TLS sockets
 * are opened here and given to node:http through `createConnection`, so each phase is its own
 * step and a failure is known to belong to it.
 *
 * Probe lifecycle (the `phase` field while it runs):
 *   1. dns        → addresses found (or an IP literal / --resolve)   → 2; no address → failed
 *   2. connect    → 'connect'                                        → 3 (https) or 4;
 *                   refused, unreachable or silent → 2 with the next address (curl's rule);
 *                   none left → failed
 *   3. tls        → 'secureConnect' and the chain/name verified      → 4; verify error → failed
 *   4. send       → request 'finish'                                 → 5
 *   5. first_byte → first 'data' on the socket                       → 6
 *   6. download   → response 'end'                                   → done
 * In any phase: the deadline, a reset, a parse error → failed, reported with that phase.
 */
import dns from 'node:dns';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { InputError, UsageError } from '../errors.js';
import { parseHeader, parseResolveSpec, parseTarget, redactHeader } from './options.js';
import type { ProbeTarget } from './options.js';
import { newTraceId, normaliseTraceId, TRACE_ID_HEADER } from './traceid.js';
import { redactionPolicy, type RedactionPolicy } from '../redaction.js';
import type { HttpConnectAttempt, HttpConnectOutcome, HttpEndpoint, HttpFailureSource, HttpHappyEyeballs, HttpHeader, HttpPhase, HttpProblem, HttpResult, HttpTlsInfo } from './types.js';

/** One family's line of attempts in a happy-eyeballs race: the other family winning ends it. */
interface Lane { lost: boolean; abandon: (() => void) | null }

export const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * The longest deadline (one day). Node's timers hold at most 2^31-1 ms (24.8 days) and fire
 * at once past it, with a TimeoutOverflowWarning — a timeout of 1e12 s looked like a
 * handshake that timed out.
 */
export const MAX_TIMEOUT_MS = 86_400_000;
/**
 * The most response-head bytes read (status line and headers): curl's total limit
 * (MAX_HTTP_RESP_HEADER_SIZE, 300 KiB). Node's own default, 16 KiB, refused heads curl reads.
 */
export const MAX_RESPONSE_HEAD_BYTES = 300 * 1024;
/** How long the check "does this port speak TLS?" may take after an empty plain-HTTP reply. */
const TLS_SNIFF_MS = 1000;
/** Bytes of an unreadable response kept to show what the server sent. */
const FIRST_BYTES_SHOWN = 24;
export const DEFAULT_BODY_HEAD_BYTES = 512;
/** curl's default --happy-eyeballs-timeout-ms. */
export const DEFAULT_HAPPY_EYEBALLS_MS = 200;
export const USER_AGENT = 'flowtrace/0.1.0';

/** The name-resolution seam: every address for a host, in the order to try. */
export type LookupFn = (host: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;

export interface HttpProbeOptions {
  /** curl-style `HOST:PORT:ADDR[,ADDR]`; entries for another host or port are ignored. */
  resolve?: string | readonly string[];
  /**
   * `'Name: value'` strings or parsed headers; they replace defaults of the same name in
   * place. As curl: the string `'Name:'` leaves that header out, `'Name;'` sends it empty.
   */
  headers?: ReadonlyArray<string | HttpHeader>;
  /** PEM file of the CA(s) to trust instead of the system roots (curl --cacert). */
  caFile?: string;
  /** Do not fail on certificate problems (they are still reported in `tls`). */
  insecure?: boolean;
  /** X-Amzn-Trace-Id value or Root to send; default a fresh one. */
  traceId?: string;
  /** Deadline for the whole probe; the phase running when it expires is reported. */
  timeoutMs?: number;
  /**
   * Deadline for getting connected, counted from the start like curl's --connect-timeout
   * (the name lookup included); shared among the addresses by curl's rule. Default: none
   * but `timeoutMs`.
   */
  connectTimeoutMs?: number;
  /**
   * Happy eyeballs (curl's --happy-eyeballs-timeout-ms): when the addresses hold both
   * families, the other family starts this many ms after the first (or when it failed), the
   * first connection wins. Default 200 (curl's); 0 tries every address in turn.
   */
  happyEyeballsMs?: number;
  /** Request method; default GET, or POST when there is a body (as curl -d). */
  method?: string;
  /**
   * Request body, sent as is with its Content-Length (curl -d / --data-binary; see
   * buildRequestBody). `Content-Type: application/x-www-form-urlencoded` is added unless a
   * Content-Type header is given, as curl does.
   */
  body?: string | Uint8Array;
  /** How many body bytes to keep as text in `bodyHead` (header-shaped secrets in it are hidden). */
  bodyHeadBytes?: number;
  /**
   * Header names whose values the result hides besides the defaults (src/redaction.ts):
   * in `requestHeaders`, `headers` and `bodyHead`. What is sent is not changed.
   */
  redact?: readonly string[];
  /** Name resolution; default the system resolver (getaddrinfo, like curl). */
  lookup?: LookupFn;
  signal?: AbortSignal;
}

const systemLookup: LookupFn = async (host) => {
  const all = await dns.promises.lookup(host, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** A failure inside the probe, converted to an HttpProblem with the phase it happened in. */
class ProbeFailure extends Error {
  constructor(readonly code: string, message: string, readonly hint: string, readonly source: HttpFailureSource, readonly causeCode: string | null = null) {
    super(message);
  }
}

const PHASE_WORDS: Record<HttpPhase, string> = {
  dns: 'the name lookup',
  connect: 'the TCP handshake',
  tls: 'the TLS handshake',
  send: 'sending the request',
  first_byte: 'the first byte of the response',
  download: 'the rest of the response',
};

const TIMEOUT_HINTS: Record<HttpPhase, string> = {
  dns: 'the resolver does not answer: run flowtrace dns NAME, or pin the address with --resolve HOST:PORT:ADDR',
  connect: 'SYNs get no answer: a firewall or security group drops them, or the host is down; run flowtrace trace --proto tcp --port PORT HOST',
  tls: 'TCP connected but the TLS handshake never finished: is the port serving TLS (try http://)? a middlebox may drop large packets',
  send: 'the request could not be written: the server stopped reading',
  first_byte: 'the server took the request but did not answer: the application (or the target behind the load balancer) is slow or hung; an ALB answers 504 when its target does not',
  download: 'the response started but did not finish: the server stalled while sending the body',
};

const RESET_HINTS: Record<HttpPhase, string> = {
  dns: 'the resolver reset the connection',
  connect: 'the server or a firewall refused the connection',
  tls: 'the server (or a middlebox) dropped the TLS handshake: check the port serves TLS and accepts TLS 1.2+ and this name (SNI)',
  send: 'the server closed while the request was sent: it may reject the request size or headers',
  first_byte: 'the server closed the connection instead of answering: the application crashed or a proxy in between gave up',
  download: 'the connection broke in the middle of the response: the server or a proxy in between closed it',
};

/** A failed connect's ProbeFailure code → the attempt's outcome. */
const CONNECT_OUTCOMES: Record<string, HttpConnectOutcome> = {
  HTTP_CONNECT_REFUSED: 'refused',
  HTTP_UNREACHABLE: 'unreachable',
  HTTP_TIMEOUT: 'timeout',
};

const OUTCOME_WORDS: Record<HttpConnectOutcome, string> = {
  connected: 'connected',
  refused: 'refused',
  unreachable: 'unreachable',
  timeout: 'timed out',
  aborted: 'aborted',
  abandoned: 'abandoned (the other family connected first)',
  error: 'failed',
};

function hostPort(address: string, port: number): string {
  return `${net.isIPv6(address) ? `[${address}]` : address}:${port}`;
}

const UNKNOWN_CA = new Set(['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_UNTRUSTED']);

function tlsVerifyFailure(code: string, host: string, info: HttpTlsInfo): ProbeFailure {
  if (UNKNOWN_CA.has(code)) {
    return new ProbeFailure('TLS_UNKNOWN_CA', `certificate of ${host} is not signed by a trusted CA (${code}; issuer ${info.issuer ?? 'unknown'})`,
      'give the CA that signed it with --cacert FILE (the lab: /run/flowtrace-lab/ca.pem), or look anyway with --insecure', 'target', code);
  }
  if (code === 'CERT_HAS_EXPIRED') {
    return new ProbeFailure('TLS_CERT_EXPIRED', `certificate of ${host} expired on ${info.validTo ?? '?'}`, 'renew the certificate on the server (or the load balancer listener); --insecure to look anyway', 'target', code);
  }
  if (code === 'CERT_NOT_YET_VALID') {
    return new ProbeFailure('TLS_CERT_NOT_YET_VALID', `certificate of ${host} is valid only from ${info.validFrom ?? '?'}`, "check this machine's clock, or the certificate's start date", 'target', code);
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || code === 'HOSTNAME_MISMATCH') {
    const names = info.subjectAltNames.length > 0 ? info.subjectAltNames.join(', ') : info.subject ?? 'none';
    return new ProbeFailure('TLS_HOSTNAME_MISMATCH', `certificate is for ${names}, not ${host}`, 'use the name the certificate is for, or fix the certificate / listener; --insecure to look anyway', 'target', code);
  }
  return new ProbeFailure('TLS_VERIFY_FAILED', `certificate of ${host} failed verification: ${code}`, 'see the certificate details with --insecure; --cacert FILE to trust a private CA', 'target', code);
}

function errnoFailure(err: NodeJS.ErrnoException & { reason?: string }, phase: HttpPhase, where: string): ProbeFailure {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') {
    return new ProbeFailure('HTTP_CONNECT_REFUSED', `connection refused by ${where}`, 'nothing listens on that port, or a firewall rejects the SYN: check the listener / security group; flowtrace trace --proto tcp shows where it stops', 'target', code);
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EHOSTDOWN' || code === 'ENETDOWN') {
    return new ProbeFailure('HTTP_UNREACHABLE', `no route to ${where} (${code})`, 'a router answered host/network unreachable or this machine has no route: run flowtrace trace to see where the path stops', code === 'ENETUNREACH' ? 'local' : 'target', code);
  }
  if (code === 'ECONNRESET' && err.message === 'socket hang up') {
    return new ProbeFailure('HTTP_EMPTY_REPLY', `${where} closed the connection without a response`, RESET_HINTS[phase], 'target', code);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED') {
    return new ProbeFailure('HTTP_RESET', `connection reset by ${where} during ${PHASE_WORDS[phase]}`, RESET_HINTS[phase], 'target', code);
  }
  if (code.startsWith('HPE_')) {
    return new ProbeFailure('HTTP_PARSE', `malformed HTTP response from ${where}: ${err.reason ?? err.message} (${code})`, 'the server does not speak HTTP/1.1 on this port, or a proxy mangled the response', 'target', code);
  }
  if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG' || code === 'EPROTO') {
    return new ProbeFailure('TLS_HANDSHAKE', `${where} did not answer with TLS (${code}): what it sent is no TLS record`, `this port speaks plain HTTP or another protocol: use http://${where}/, or the port that serves TLS`, 'target', code);
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) {
    return new ProbeFailure('TLS_HANDSHAKE', `TLS handshake with ${where} failed: ${err.message} (${code})`, 'the server and flowtrace share no TLS version or cipher, or the server rejected this name (SNI)', 'target', code);
  }
  if (code === 'EADDRNOTAVAIL' || code === 'EMFILE' || code === 'EACCES' || code === 'EPERM' || code === 'ENOBUFS') {
    return new ProbeFailure('HTTP_LOCAL', `cannot open a connection to ${where}: ${code}`, 'a problem on this machine (addresses, file descriptors, local firewall)', 'local', code);
  }
  return new ProbeFailure('HTTP_ERROR', `${PHASE_WORDS[phase]} with ${where} failed: ${err.message}${code ? ` (${code})` : ''}`, 'see the message; rerun with --json for the details', 'target', code || null);
}

/** The first bytes of a TLS record: alert (21) or handshake (22), version 3.x (RFC 8446 §5.1). */
function looksLikeTls(b: Buffer | null): boolean {
  return b !== null && b.length >= 3 && (b[0] === 0x15 || b[0] === 0x16) && b[1] === 0x03 && b[2] <= 0x04;
}

/** Bytes as text a person can read: printable ASCII as is, the rest as \xNN. */
function printable(b: Buffer): string {
  let out = '';
  for (const c of b) out += c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`;
  return out;
}

/** A failure while reading the response, said by what the server really sent. */
function responseFailure(err: NodeJS.ErrnoException & { reason?: string }, phase: HttpPhase, where: string, url: URL, firstBytes: Buffer | null): ProbeFailure {
  const https = url.protocol === 'https:';
  const code = err.code ?? '';
  if (code === 'HPE_HEADER_OVERFLOW') {
    return new ProbeFailure('HTTP_HEADER_TOO_LARGE', `header too large: the response head from ${where} is over the limit of ${MAX_RESPONSE_HEAD_BYTES} bytes (curl's limit too)`,
      'the server (or a proxy) sends oversized headers — a cookie or header that keeps growing, or a misconfigured one: look at them with curl -sv -o /dev/null URL 2>&1 | head', 'target', code);
  }
  if (!https && looksLikeTls(firstBytes)) {
    return tlsPortFailure(where, `answered the plain HTTP request with TLS (a TLS ${firstBytes![0] === 0x15 ? 'alert' : 'handshake'} record)`, httpsUrl(url, Number(where.slice(where.lastIndexOf(':') + 1))));
  }
  if (code.startsWith('HPE_') && firstBytes !== null) {
    return new ProbeFailure('HTTP_PARSE', `malformed HTTP response from ${where}: ${err.reason ?? err.message} (${code}); it began with "${printable(firstBytes)}"`,
      'the server does not speak HTTP/1.1 on this port (the first bytes say what it speaks), or a proxy mangled the response', 'target', code);
  }
  return errnoFailure(err, phase, where);
}

function tlsPortFailure(where: string, what: string, https: string): ProbeFailure {
  return new ProbeFailure('HTTP_TLS_PORT', `${where} ${what}`, `this port speaks TLS: use ${https} (-k if its certificate is not for this name)`, 'target', null);
}

/** The URL asked for, as https on the port that answered. */
function httpsUrl(url: URL, port: number): string {
  const u = new URL(url.href);
  u.protocol = 'https:';
  u.port = String(port);
  return u.href;
}

/**
 * After an empty reply to plain HTTP: does the port complete a TLS handshake? (A TLS server
 * sent plain text may just close, as Node's does.) One connection, TLS_SNIFF_MS at most.
 */
function speaksTls(address: string, port: number, servername: string | undefined, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: address, port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    const done = (yes: boolean): void => { clearTimeout(timer); socket.destroy(); resolve(yes); };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function certName(fields: Record<string, string | string[]> | undefined): string | null {
  if (!fields) return null;
  const parts = Object.entries(fields).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`);
  return parts.length > 0 ? parts.join(', ') : null;
}

function tlsInfo(socket: tls.TLSSocket): HttpTlsInfo {
  const cert = socket.getPeerCertificate();
  const has = cert && Object.keys(cert).length > 0;
  const cipher = socket.getCipher();
  const alpn = socket.alpnProtocol;
  return {
    protocol: socket.getProtocol() ?? null,
    cipher: cipher ? cipher.standardName ?? cipher.name : null,
    alpn: typeof alpn === 'string' ? alpn : null,
    authorized: socket.authorized,
    authorizationError: socket.authorizationError ? String((socket.authorizationError as unknown as { code?: string }).code ?? socket.authorizationError) : null,
    subject: has ? certName(cert.subject as unknown as Record<string, string>) : null,
    issuer: has ? certName(cert.issuer as unknown as Record<string, string>) : null,
    subjectAltNames: has && cert.subjectaltname ? cert.subjectaltname.split(',').map((s) => s.trim()) : [],
    validFrom: has ? new Date(cert.valid_from).toISOString() : null,
    validTo: has ? new Date(cert.valid_to).toISOString() : null,
    fingerprint256: has ? cert.fingerprint256 : null,
  };
}

function hostHeader(target: ProbeTarget): string {
  const host = net.isIPv6(target.host) ? `[${target.host}]` : target.host;
  const defaultPort = target.https ? 443 : 80;
  return target.port === defaultPort ? host : `${host}:${target.port}`;
}

function endpoint(address: string | undefined, port: number | undefined): HttpEndpoint | null {
  if (!address || port === undefined) return null;
  return { address: address.replace(/^::ffff:(?=\d+\.)/, ''), port, family: net.isIPv6(address) && !address.startsWith('::ffff:') ? 6 : 4 };
}

/** Text of the first body bytes: printable ASCII kept, the rest escaped. */
function bodyText(bytes: Buffer): string {
  return bytes.toString('latin1').replace(/[^\x20-\x7e\n\t]/g, (c) => c === '\r' ? '' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

let warmed: Promise<void> | null = null;

/**
 * Runs one request through node:http against an in-memory peer, once per process, before any
 * clock starts: the first use of the client and its parser costs milliseconds of lazy loading
 * and JIT that would otherwise show up as "request sent" and "first byte" time.
 */
function warmUp(): Promise<void> {
  warmed ??= new Promise<void>((resolve) => {
    const peer = new Duplex({
      read() { /* answers are pushed from write() */ },
      write(_chunk, _encoding, callback) {
        this.push('HTTP/1.1 204 No Content\r\nX-Warm: 1\r\n\r\n');
        callback();
      },
    });
    const req = http.request({ method: 'GET', path: '/', headers: ['Host', 'warm.invalid', 'Connection', 'close'] as unknown as http.OutgoingHttpHeaders, setHost: false, createConnection: () => peer as unknown as net.Socket });
    const done = (): void => { peer.destroy(); resolve(); };
    req.once('response', (res) => { res.resume(); res.once('end', done); });
    req.on('error', done);
    req.end();
  });
  return warmed;
}

interface Prepared {
  target: ProbeTarget;
  method: string;
  traceId: string;
  requestHeaders: HttpHeader[];
  ca: Buffer | null;
  /** Built before the clock starts, so CA parsing is not counted as handshake time. */
  secureContext: tls.SecureContext | null;
  pinned: string[] | null;
  body: Buffer | null;
  timeoutMs: number;
  connectTimeoutMs: number | null;
  happyEyeballsMs: number;
  bodyHeadBytes: number;
  redaction: RedactionPolicy;
}

function prepare(rawUrl: string, options: HttpProbeOptions): Prepared {
  const target = parseTarget(rawUrl);
  const redaction = redactionPolicy(options.redact ?? []);
  const body = options.body === undefined ? null : typeof options.body === 'string' ? Buffer.from(options.body, 'utf8') : Buffer.from(options.body.buffer, options.body.byteOffset, options.body.byteLength);
  const method = (options.method ?? (body ? 'POST' : 'GET')).toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new UsageError(`bad method '${options.method}'`, 'e.g. GET, HEAD, POST, PUT, DELETE, OPTIONS');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new UsageError(`bad timeout ${timeoutMs} ms`, 'give a positive timeout');
  if (timeoutMs > MAX_TIMEOUT_MS) throw new UsageError(`timeout ${timeoutMs} ms is more than the maximum, ${MAX_TIMEOUT_MS} ms (one day)`, `give at most ${MAX_TIMEOUT_MS} ms`);
  const connectTimeoutMs = options.connectTimeoutMs ?? null;
  if (connectTimeoutMs !== null && !(connectTimeoutMs > 0)) throw new UsageError(`bad connect timeout ${connectTimeoutMs} ms`, 'give a positive connect timeout');
  if (connectTimeoutMs !== null && connectTimeoutMs > MAX_TIMEOUT_MS) throw new UsageError(`connect timeout ${connectTimeoutMs} ms is more than the maximum, ${MAX_TIMEOUT_MS} ms (one day)`, `give at most ${MAX_TIMEOUT_MS} ms`);
  const happyEyeballsMs = options.happyEyeballsMs ?? DEFAULT_HAPPY_EYEBALLS_MS;
  if (!(happyEyeballsMs >= 0) || happyEyeballsMs > MAX_TIMEOUT_MS) throw new UsageError(`bad happy-eyeballs delay ${happyEyeballsMs} ms`, 'give 0 (every address in turn) or a delay in ms, e.g. 200 (curl\'s default)');
  const user = (options.headers ?? []).map((h) => (typeof h === 'string' ? parseHeader(h) : { ...h, remove: false }));
  const isTrace = (h: HttpHeader): boolean => h.name.toLowerCase() === TRACE_ID_HEADER.toLowerCase();
  if (user.some((h) => isTrace(h) && h.remove)) {
    throw new UsageError(`the ${TRACE_ID_HEADER} header cannot be left out`, 'flowtrace sends one with every request so the server side can find it; choose it with --trace-id');
  }
  const userTrace = user.find(isTrace);
  const traceId = options.traceId !== undefined ? normaliseTraceId(options.traceId) : userTrace ? normaliseTraceId(userTrace.value) : newTraceId();
  const defaults: HttpHeader[] = [
    { name: 'Host', value: hostHeader(target) },
    { name: 'User-Agent', value: USER_AGENT },
    { name: 'Accept', value: '*/*' },
    { name: TRACE_ID_HEADER, value: traceId },
    { name: 'Connection', value: 'close' },
    ...(body ? [{ name: 'Content-Length', value: String(body.length) }, { name: 'Content-Type', value: 'application/x-www-form-urlencoded' }] : []),
  ];
  // As curl: a header given replaces the default of that name in its place, `Name:` (no
  // value) leaves it out, the others follow the defaults in the order given.
  const requestHeaders: HttpHeader[] = [];
  const sameName = (a: HttpHeader, b: HttpHeader): boolean => a.name.toLowerCase() === b.name.toLowerCase();
  for (const d of defaults) {
    const given = user.filter((h) => sameName(h, d));
    if (given.length === 0 || isTrace(d)) requestHeaders.push(d);
    else for (const h of given) if (!h.remove) requestHeaders.push({ name: h.name, value: h.value });
  }
  for (const h of user) if (!h.remove && !defaults.some((d) => sameName(h, d))) requestHeaders.push({ name: h.name, value: h.value });
  let ca: Buffer | null = null;
  if (options.caFile !== undefined) {
    try {
      ca = readFileSync(options.caFile);
    } catch (err) {
      throw new InputError(`cannot read CA file ${options.caFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'give a PEM file with the CA certificate(s), e.g. --cacert /run/flowtrace-lab/ca.pem', { caFile: options.caFile });
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new InputError(`${options.caFile} holds no PEM certificate`, 'give a PEM file (-----BEGIN CERTIFICATE-----)', { caFile: options.caFile });
    }
  }
  let pinned: string[] | null = null;
  const specs = options.resolve === undefined ? [] : typeof options.resolve === 'string' ? [options.resolve] : options.resolve;
  for (const spec of specs) {
    const entry = parseResolveSpec(spec);
    if ((entry.host === '*' || entry.host === target.host.toLowerCase()) && entry.port === target.port) pinned ??= entry.addresses;
  }
  const secureContext = target.https ? tls.createSecureContext(ca ? { ca } : {}) : null;
  return { target, method, traceId, requestHeaders, ca, secureContext, pinned, body, timeoutMs, connectTimeoutMs, happyEyeballsMs, bodyHeadBytes: options.bodyHeadBytes ?? DEFAULT_BODY_HEAD_BYTES, redaction };
}

/**
 * Sends one request and measures it. Never rejects for network outcomes (they are the
 * result's `status` and `error`); throws UsageError / InputError for bad options.
 */
export async function httpProbe(rawUrl: string, options: HttpProbeOptions = {}): Promise<HttpResult> {
  const p = prepare(rawUrl, options);
  const { target } = p;
  await warmUp();
  const started = performance.now();
  const now = (): number => performance.now() - started;
  let phase: HttpPhase = 'dns';
  let socket: net.Socket | null = null;
  /** The steps waiting (two at once while happy eyeballs races the families). */
  const onDeadline = new Set<(f: ProbeFailure) => void>();
  let deadlineHit: ProbeFailure | null = null;

  const result: HttpResult = {
    url: target.url.href,
    method: p.method,
    status: 'error',
    failureSource: null,
    traceId: p.traceId,
    resolvedBy: net.isIP(target.host) !== 0 ? 'literal' : p.pinned ? 'resolve-option' : 'dns',
    addresses: [],
    connectAttempts: [],
    happyEyeballs: null,
    remote: null,
    local: null,
    httpVersion: null,
    statusCode: null,
    reason: null,
    requestHeaders: p.requestHeaders.map((h) => redactHeader(h, p.redaction)),
    requestBodyBytes: p.body?.length ?? 0,
    headers: [],
    tls: null,
    timings: { namelookupMs: null, connectMs: null, appconnectMs: null, pretransferMs: null, starttransferMs: null, headersMs: null, totalMs: 0 },
    phases: { dnsMs: null, connectMs: null, tlsMs: null, sendMs: null, waitMs: null, downloadMs: null, failedConnectsMs: null },
    bodyBytes: 0,
    bodyHead: '',
    bodyTruncated: false,
    error: null,
  };
  const t = result.timings;

  const expire = (reason: 'timeout' | 'abort'): void => {
    const failure = reason === 'timeout'
      ? new ProbeFailure('HTTP_TIMEOUT', `timed out after ${p.timeoutMs} ms waiting for ${PHASE_WORDS[phase]}${result.remote ? ` (${result.remote.address}:${result.remote.port})` : ''}`, TIMEOUT_HINTS[phase], phase === 'dns' ? 'resolver' : 'target')
      : new ProbeFailure('HTTP_ABORTED', `aborted during ${PHASE_WORDS[phase]}`, 'the probe was cancelled', 'local');
    deadlineHit = failure;
    for (const h of [...onDeadline]) h(failure);
  };
  const timer = setTimeout(() => expire('timeout'), p.timeoutMs);
  const onAbort = (): void => expire('abort');
  options.signal?.addEventListener('abort', onAbort, { once: true });
  /** Runs one phase's wait; the deadline (or abort) rejects it with the phase's failure. */
  const step = <T>(run: (resolve: (v: T) => void, reject: (e: unknown) => void) => void): Promise<T> => new Promise<T>((resolve, reject) => {
    if (deadlineHit) { reject(deadlineHit); return; }
    const h = (f: ProbeFailure): void => { socket?.destroy(); reject(f); };
    onDeadline.add(h);
    run((v) => { onDeadline.delete(h); resolve(v); }, (e) => { onDeadline.delete(h); reject(e); });
  });

  /**
   * Tries each address in order, like curl: a refused, unreachable or silent address moves
   * on to the next; each address but the last gets half of the time left (curl's rule), so
   * one dead node of a two-node load balancer cannot use up the deadline. The whole-probe
   * deadline or an abort ends it at once. Throws the last failure when none connects.
   */
  const connectInTurn = async (addresses: string[], lane?: Lane): Promise<{ socket: net.Socket; where: string }> => {
    let lastFailure: ProbeFailure | null = null;
    let attemptsEndMs = 0;
    // The connect timeout, when shorter than the whole deadline, also bounds the last address.
    const connectLimited = p.connectTimeoutMs !== null && p.connectTimeoutMs < p.timeoutMs;
    const connectLimitMs = connectLimited ? p.connectTimeoutMs! : p.timeoutMs;
    for (let i = 0; i < addresses.length; i++) {
      const address = addresses[i];
      const where = hostPort(address, target.port);
      const isLast = i === addresses.length - 1;
      if (lane?.lost) throw new ProbeFailure('HTTP_ABANDONED', 'the other family connected first', '', 'local');
      // Attempts are back to back from the end of the lookup, so the phases add up to the total
      // (a lane of a happy-eyeballs race starts when it is let go).
      const startMs = lane ? now() : i === 0 ? t.namelookupMs ?? now() : attemptsEndMs;
      const attempt: HttpConnectAttempt = { address, port: target.port, family: net.isIPv6(address) ? 6 : 4, outcome: 'timeout', cause: null, startMs, durationMs: 0 };
      result.connectAttempts.push(attempt);
      const tcp = net.connect({ host: address, port: target.port });
      socket = tcp;
      let shareTimer: NodeJS.Timeout | undefined;
      try {
        await step<void>((resolve, reject) => {
          tcp.once('connect', () => resolve());
          tcp.on('error', (err) => reject(errnoFailure(err, 'connect', where)));
          if (lane) lane.abandon = () => reject(new ProbeFailure('HTTP_ABANDONED', 'the other family connected first', '', 'local'));
          const leftMs = Math.max(0, connectLimitMs - now());
          if (!isLast || connectLimited) {
            const shareMs = isLast ? leftMs : leftMs / 2;
            const message = isLast ? `timed out after ${connectLimitMs} ms (--connect-timeout) waiting for the TCP handshake (${where})` : `no answer from ${where} within ${Math.round(shareMs)} ms`;
            shareTimer = setTimeout(() => reject(new ProbeFailure('HTTP_TIMEOUT', message, TIMEOUT_HINTS.connect, 'target')), shareMs);
          }
        });
        attempt.outcome = 'connected';
        return { socket: tcp, where };
      } catch (err) {
        tcp.destroy();
        if (!(err instanceof ProbeFailure)) throw err;
        attempt.outcome = err.code === 'HTTP_ABORTED' ? 'aborted' : err.code === 'HTTP_ABANDONED' ? 'abandoned' : CONNECT_OUTCOMES[err.code] ?? 'error';
        attempt.cause = err.code === 'HTTP_TIMEOUT' || err.code === 'HTTP_ABORTED' || err.code === 'HTTP_ABANDONED' ? null : err.causeCode;
        if (err.code === 'HTTP_ABANDONED') throw err;
        if (err === deadlineHit) {
          if (err.code === 'HTTP_TIMEOUT' && i > 0) throw allFailed(err, `timed out after ${p.timeoutMs} ms`, addresses.length);
          throw err;
        }
        lastFailure = err;
      } finally {
        clearTimeout(shareTimer);
        if (lane) lane.abandon = null;
        attemptsEndMs = now();
        attempt.durationMs = attemptsEndMs - startMs;
      }
    }
    if (addresses.length === 1 || lastFailure === null) throw lastFailure ?? new ProbeFailure('HTTP_ERROR', 'no address to connect to', 'give an address', 'target');
    const limitHit = connectLimited && lastFailure.code === 'HTTP_TIMEOUT';
    throw allFailed(lastFailure, limitHit ? `within the ${connectLimitMs} ms connect timeout` : `after ${Math.round(now())} ms`, addresses.length);
  };
  /** curl's "Failed to connect to HOST port PORT after N ms", with what each address did. */
  const allFailed = (last: ProbeFailure, when: string, total: number): ProbeFailure => {
    const attempts = result.connectAttempts;
    const tried = attempts.map((a) => `${hostPort(a.address, a.port)} ${OUTCOME_WORDS[a.outcome]}`).join(', ');
    const untried = total - attempts.length;
    return new ProbeFailure(last.code, `failed to connect to ${target.host} port ${target.port} ${when}: ${tried}${untried > 0 ? ` (${untried} more not tried)` : ''}`, last.hint, last.source, last.causeCode);
  };

  /**
   * Happy eyeballs as curl runs it: the first address's family in turn, the other family
   * after p.happyEyeballsMs (or at once when the first has failed), the first connection
   * wins and the other lane's attempt is abandoned. One family, or a delay of 0: in turn.
   */
  const connectHappily = async (addresses: string[]): Promise<{ socket: net.Socket; where: string }> => {
    const familyOf = (a: string): 4 | 6 => (net.isIPv6(a) ? 6 : 4);
    const firstFamily = familyOf(addresses[0]!);
    const first = addresses.filter((a) => familyOf(a) === firstFamily);
    const second = addresses.filter((a) => familyOf(a) !== firstFamily);
    if (p.happyEyeballsMs === 0 || second.length === 0) return connectInTurn(addresses);
    const he: HttpHappyEyeballs = { firstFamily, delayMs: p.happyEyeballsMs, secondStartMs: null, familyUsed: null, lostMs: null };
    result.happyEyeballs = he;
    const lanes: [Lane, Lane] = [{ lost: false, abandon: null }, { lost: false, abandon: null }];
    let letGo: () => void = () => {};
    const go = new Promise<void>((resolve) => { letGo = resolve; });
    const delay = setTimeout(() => letGo(), p.happyEyeballsMs);
    const runs = [
      connectInTurn(first, lanes[0]),
      go.then(() => { he.secondStartMs = now(); return connectInTurn(second, lanes[1]); }),
    ];
    runs[0]!.catch(() => letGo()); // the first family failed: the other starts at once
    try {
      const won = await Promise.any(runs.map((r, i) => r.then((c) => ({ c, i }))));
      const loser = lanes[1 - won.i]!;
      loser.lost = true;
      loser.abandon?.();
      he.familyUsed = won.i === 0 ? firstFamily : familyOf(second[0]!);
      socket = won.c.socket;
      return won.c;
    } catch (err) {
      const errors = err instanceof AggregateError ? err.errors : [err];
      const last = errors.filter((e): e is ProbeFailure => e instanceof ProbeFailure).at(-1);
      if (!last) throw errors[0];
      if (last === deadlineHit) throw last.code === 'HTTP_TIMEOUT' ? allFailed(last, `timed out after ${p.timeoutMs} ms`, addresses.length) : last;
      throw allFailed(last, `after ${Math.round(now())} ms`, addresses.length);
    } finally {
      clearTimeout(delay);
    }
  };

  try {
    // 1. dns
    let addresses: string[];
    if (net.isIP(target.host) !== 0) addresses = [target.host];
    else if (p.pinned) addresses = p.pinned;
    else {
      const lookup = options.lookup ?? systemLookup;
      addresses = await step<string[]>((resolve, reject) => {
        lookup(target.host).then((all) => resolve(all.map((a) => a.address)), (err: NodeJS.ErrnoException) => {
          const code = err.code ?? 'ERROR';
          const notFound = code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EAI_NONAME';
          reject(new ProbeFailure('HTTP_DNS', `cannot resolve ${target.host}: ${code}${notFound ? ' (no such name or no address)' : code === 'EAI_AGAIN' ? ' (the resolver did not answer)' : ''}`,
            `run flowtrace dns ${target.host} to see what the resolver says, or pin the address with --resolve ${target.host}:${target.port}:ADDR`, notFound ? 'target' : 'resolver', code));
        });
      });
      if (addresses.length === 0) throw new ProbeFailure('HTTP_DNS', `${target.host} has no address`, `run flowtrace dns ${target.host}`, 'target');
    }
    result.addresses = addresses;
    t.namelookupMs = now();

    // 2. connect: each address in turn until one connects (curl's order and rule).
    phase = 'connect';
    const connected = await connectHappily(addresses);
    const tcp = connected.socket;
    const where = connected.where;
    t.connectMs = now();
    result.remote = endpoint(tcp.remoteAddress, tcp.remotePort);
    result.local = endpoint(tcp.localAddress, tcp.localPort);
    tcp.removeAllListeners('error');
    tcp.on('error', () => { /* reported through the TLS socket or the request */ });
    let conn: net.Socket = tcp;

    // 3. tls
    if (target.https) {
      phase = 'tls';
      const secure = tls.connect({
        socket: tcp,
        servername: net.isIP(target.host) === 0 ? target.host : undefined,
        host: target.host,
        secureContext: p.secureContext ?? undefined,
        rejectUnauthorized: false, // verified below, so the certificate can be reported either way
        ALPNProtocols: ['http/1.1'],
      });
      socket = secure;
      conn = secure;
      await step<void>((resolve, reject) => {
        secure.once('secureConnect', () => resolve());
        secure.on('error', (err) => reject(errnoFailure(err, 'tls', where)));
      });
      t.appconnectMs = now();
      result.tls = tlsInfo(secure);
      if (!secure.authorized && options.insecure !== true) {
        throw tlsVerifyFailure(result.tls.authorizationError ?? 'UNKNOWN', target.host, result.tls);
      }
    }

    // 4–6. send, first byte, download
    phase = 'send';
    // Tells a clean close (FIN) in the middle of a body from a reset (RST).
    let finSeen = false;
    let resetSeen = false;
    conn.on('end', () => { finSeen = true; });
    conn.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'ECONNRESET') resetSeen = true; });
    const headerArray = p.requestHeaders.flatMap((h) => [h.name, h.value]);
    /** The first bytes of the response, to say what the server speaks when it is not HTTP. */
    let firstBytes: Buffer | null = null;
    await step<void>((resolve, reject) => {
      const req = http.request({
        method: p.method,
        path: `${target.url.pathname}${target.url.search}`,
        headers: headerArray as unknown as http.OutgoingHttpHeaders,
        setHost: false,
        maxHeaderSize: MAX_RESPONSE_HEAD_BYTES,
        createConnection: () => conn,
      });
      req.once('socket', (s: net.Socket) => {
        s.prependOnceListener('data', (chunk: Buffer) => {
          t.starttransferMs ??= now();
          phase = 'download';
          firstBytes = Buffer.from(chunk.subarray(0, FIRST_BYTES_SHOWN));
        });
      });
      req.once('finish', () => {
        t.pretransferMs = now();
        if (phase === 'send') phase = 'first_byte';
      });
      req.on('error', (err) => reject(responseFailure(err, phase, where, target.url, firstBytes)));
      req.once('response', (res) => {
        t.headersMs = now();
        t.starttransferMs ??= t.headersMs;
        phase = 'download';
        result.httpVersion = res.httpVersion;
        result.statusCode = res.statusCode ?? null;
        result.reason = res.statusMessage ?? null;
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) result.headers.push(redactHeader({ name: res.rawHeaders[i], value: res.rawHeaders[i + 1] }, p.redaction));
        const head: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          result.bodyBytes += chunk.length;
          if (kept < p.bodyHeadBytes) {
            const slice = chunk.subarray(0, p.bodyHeadBytes - kept);
            head.push(slice);
            kept += slice.length;
          }
        });
        res.once('end', () => {
          result.bodyHead = p.redaction.redactText(bodyText(Buffer.concat(head)));
          result.bodyTruncated = result.bodyBytes > kept;
          resolve();
        });
        res.on('error', (err) => {
          result.bodyHead = p.redaction.redactText(bodyText(Buffer.concat(head)));
          if (finSeen && !resetSeen) {
            const expected = res.headers['content-length'];
            reject(new ProbeFailure('HTTP_INCOMPLETE', `${where} closed the connection after ${result.bodyBytes} of ${expected ?? 'an unknown number of'} body bytes`,
              'the server ended the response early (a crash, a proxy timeout, or a wrong Content-Length)', 'target', (err as NodeJS.ErrnoException).code ?? null));
            return;
          }
          reject(errnoFailure(err as NodeJS.ErrnoException, 'download', where));
        });
      });
      if (p.body) req.end(p.body);
      else req.end();
    });
    result.status = 'ok';
  } catch (caught) {
    if (!(caught instanceof ProbeFailure)) throw caught;
    let err = caught;
    // An empty reply to plain HTTP: a TLS port may just close on plain text (Node's does).
    const emptyReply = err.code === 'HTTP_EMPTY_REPLY' || (err.code === 'HTTP_RESET' && (phase as HttpPhase) === 'first_byte');
    if (!target.https && emptyReply && result.remote !== null && options.signal?.aborted !== true) {
      const leftMs = Math.min(TLS_SNIFF_MS, p.timeoutMs - now());
      const servername = net.isIP(target.host) === 0 ? target.host : undefined;
      if (leftMs > 0 && await speaksTls(result.remote.address, result.remote.port, servername, leftMs)) {
        err = tlsPortFailure(hostPort(result.remote.address, result.remote.port), 'closed the connection without answering the plain HTTP request, and completes a TLS handshake', httpsUrl(target.url, result.remote.port));
      }
    }
    const problem: HttpProblem = { code: err.code, phase, message: err.message, hint: err.hint, cause: err.causeCode };
    result.error = problem;
    result.failureSource = err.source;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    socket?.destroy();
    t.totalMs = now();
  }
  const ph = result.phases;
  const diff = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : a - b);
  ph.dnsMs = t.namelookupMs;
  // The connect phase is the handshake of the address used; the others' time is separate.
  const attempts = result.connectAttempts;
  const used = attempts.find((a) => a.outcome === 'connected');
  const he = result.happyEyeballs;
  if (he && attempts.length > 0) {
    // Raced attempts overlap: the time lost is up to the start of the one used (or the last end).
    const from = t.namelookupMs ?? 0;
    ph.failedConnectsMs = (used ? used.startMs : Math.max(...attempts.map((a) => a.startMs + a.durationMs))) - from;
    he.lostMs = used ? (used.family === he.firstFamily ? 0 : used.startMs - from) : null;
  } else {
    ph.failedConnectsMs = attempts.length === 0 ? null : attempts.filter((a) => a !== used).reduce((sum, a) => sum + a.durationMs, 0);
  }
  ph.connectMs = used ? diff(t.connectMs, used.startMs) : null;
  ph.tlsMs = diff(t.appconnectMs, t.connectMs);
  ph.sendMs = diff(t.pretransferMs, t.appconnectMs ?? t.connectMs);
  ph.waitMs = diff(t.starttransferMs, t.pretransferMs);
  ph.downloadMs = result.status === 'ok' ? diff(t.totalMs, t.starttransferMs) : null;
  return result;
}
