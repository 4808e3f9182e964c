/**
 * One node of the lab's Application Load Balancer, behaving as AWS documents an ALB:
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/
 *
 * - Listeners: HTTP and HTTPS (TLS terminates here); the client's TCP connection ends here.
 * - Connections to a target are kept alive and reused by any request to that target (one
 *   pool per target), closed after the idle timeout (60 s, AWS's default, as for clients).
 * - X-Forwarded-For (the client address appended), X-Forwarded-Proto, X-Forwarded-Port
 *   (both set by the ALB), X-Amzn-Trace-Id (a client's Root is kept and `Self=` added;
 *   otherwise `Root=1-<8 hex epoch seconds>-<24 hex>` is created).
 * - 502 when the target refuses, resets or is unreachable; 504 when it does not connect or
 *   answer within `targetTimeoutMs`; 503 when the target group has no target to route to.
 * - The target group, its health checks and its routing (cross-zone, fail open, draining): ./target-group.ts.
 * - One access-log line per request in AWS's access-log format (alb-log/).
 */
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { accessLogTime, formatAccessLogLine, type AccessLogRecord } from '../alb-log/index.js';
import { TargetGroup, type AlbHealthCheck, type AlbTarget, type TargetHealth } from './target-group.js';

export type { AlbHealthCheck, AlbTarget, TargetHealth } from './target-group.js';

export interface AlbListener {
  port: number;
  protocol: 'http' | 'https';
}

export interface AlbConfig {
  /** Node name, e.g. alb-a. */
  name: string;
  /** Address to listen on (the node's namespace isolates it). */
  host: string;
  listeners: AlbListener[];
  certFile?: string;
  keyFile?: string;
  targets: AlbTarget[];
  healthCheck: AlbHealthCheck;
  /** How long a deregistered target drains (AWS's default: 300 s). */
  deregistrationDelayMs: number;
  /** The node's availability zone. */
  zone: string | null;
  /** Cross-zone load balancing (on by default for an ALB's target groups). */
  crossZone: boolean;
  /** Connect timeout and time to the target's response head; beyond it: 504. */
  targetTimeoutMs: number;
  /** Idle timeout of client connections and of the kept-alive connections to targets. */
  idleTimeoutMs: number;
  failOpen: boolean;
  /** `app/<name>/<16 hex>`: the elb field of the access log. */
  elbId: string;
  targetGroupArn: string;
  certificateArn: string;
  accessLogFile: string | null;
  /** Where the target health is written as JSON on every change (for `lab status`). */
  healthFile: string | null;
}

/** The ALB's own error pages, as an ALB sends them. */
const REASON: Record<number, string> = { 400: 'Bad Request', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Temporarily Unavailable', 504: 'Gateway Time-out' };

export function albErrorPage(status: number): string {
  const title = `${status} ${REASON[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** `Root=1-<8 hex epoch seconds>-<24 hex>` as AWS X-Ray formats a trace id. */
export function newAmznTraceRoot(epochSeconds = Math.floor(Date.now() / 1000)): string {
  return `1-${epochSeconds.toString(16).padStart(8, '0')}-${crypto.randomBytes(12).toString('hex')}`;
}

/**
 * The X-Amzn-Trace-Id the ALB forwards, from the one the client sent (or null):
 * no header → `Root=…`; a header with a Root → `Self=…;` + the client's fields (Root kept,
 * other fields kept, an earlier Self replaced); a header without Root → a Root added.
 */
export function forwardedTraceId(incoming: string | null): string {
  if (incoming === null || incoming.trim() === '') return `Root=${newAmznTraceRoot()}`;
  const fields = incoming.split(';').map((f) => f.trim()).filter((f) => f !== '');
  const hasRoot = fields.some((f) => /^Root=/i.test(f));
  if (!hasRoot) return [`Root=${newAmznTraceRoot()}`, ...fields].join(';');
  const kept = fields.filter((f) => !/^Self=/i.test(f));
  return [`Self=${newAmznTraceRoot()}`, ...kept].join(';');
}

/** X-Forwarded-For after the ALB: the client address appended to what the client sent. */
export function forwardedFor(incoming: string | null, clientAddress: string): string {
  return incoming && incoming.trim() !== '' ? `${incoming.trim()}, ${clientAddress}` : clientAddress;
}

function rawHeadersToObject(raw: string[], skip: (lowerName: string) => boolean): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  const casing = new Map<string, string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const lower = name.toLowerCase();
    if (skip(lower)) continue;
    const key = casing.get(lower) ?? name;
    casing.set(lower, key);
    const prev = out[key];
    if (prev === undefined) out[key] = raw[i + 1]!;
    else out[key] = Array.isArray(prev) ? [...prev, raw[i + 1]!] : [prev, raw[i + 1]!];
  }
  return out;
}

function headerValue(req: http.IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}

type UpstreamFailure = { status: 502 | 504; why: string };

/** Classifies a target-side failure as an ALB would answer it. */
export function classifyTargetError(err: NodeJS.ErrnoException | null, timedOut: boolean): UpstreamFailure {
  if (timedOut) return { status: 504, why: 'target did not answer within the timeout' };
  const code = err?.code ?? '';
  if (code === 'ETIMEDOUT') return { status: 504, why: 'connect timeout' };
  // Refused (RST to SYN), reset, closed early, ICMP unreachable: AWS documents all as 502.
  return { status: 502, why: code || (err?.message ?? 'target error') };
}

export interface AlbNode {
  close(): Promise<void>;
  /** Replace targets / timeouts / failOpen / health check / cross-zone (SIGHUP reload). */
  reconfigure(next: Partial<Pick<AlbConfig, 'targets' | 'targetTimeoutMs' | 'failOpen' | 'healthCheck' | 'crossZone' | 'deregistrationDelayMs'>>): void;
  health(): TargetHealth[];
  /** Closes the idle kept-alive connections to the targets (the next requests open new ones). */
  closeIdleConnections(): number;
  /** Listening ports, once listening. */
  ports(): number[];
  /** Settles when the first round of health checks is done (each target healthy or not). */
  firstChecks: Promise<void>;
}

/**
 * The pool of kept-alive connections to one target. Node's Agent shortens its idle time to
 * the server's `Keep-Alive: timeout=N` hint (and drops the connection when N is 1 s or
 * less); an ALB does not read that header — it keeps the connection for its own idle
 * timeout whatever the target says, which is what makes a target's shorter keep-alive a race.
 */
/** TCP keep-alive probes on pooled connections after this long idle (Node's Agent default). */
const TCP_KEEPALIVE_MS = 1000;

class TargetPool extends http.Agent {
  constructor(private readonly idleMs: number) {
    super({ keepAlive: true });
  }

  override keepSocketAlive(socket: net.Socket): boolean {
    socket.setKeepAlive(true, TCP_KEEPALIVE_MS);
    socket.unref();
    socket.setTimeout(this.idleMs);
    return true;
  }

  closeIdle(): number {
    let n = 0;
    for (const list of Object.values(this.freeSockets)) for (const s of list ?? []) { s.destroy(); n++; }
    return n;
  }
}

export async function startAlb(initial: AlbConfig): Promise<AlbNode> {
  const config: AlbConfig = { ...initial, targets: [...initial.targets] };
  // Appended synchronously: a line is in the file before the client has read the whole answer.
  const logFd = config.accessLogFile ? fs.openSync(config.accessLogFile, 'a') : null;
  const pools = new Map<string, TargetPool>();
  const connIds = new WeakMap<net.Socket, string>();

  const key = (t: AlbTarget) => `${t.ip}:${t.port}`;
  const poolFor = (t: AlbTarget): TargetPool => {
    let p = pools.get(key(t));
    if (!p) { p = new TargetPool(config.idleTimeoutMs); pools.set(key(t), p); }
    return p;
  };
  let group: TargetGroup | null = null;
  const writeHealth = () => {
    if (!config.healthFile || !group) return;
    fs.writeFileSync(config.healthFile, JSON.stringify({ node: config.name, zone: config.zone, crossZone: config.crossZone, healthCheck: config.healthCheck, targets: group.status() }) + '\n');
  };
  group = new TargetGroup({
    targets: config.targets, healthCheck: config.healthCheck, deregistrationDelayMs: config.deregistrationDelayMs,
    zone: config.zone, crossZone: config.crossZone, failOpen: config.failOpen, onChange: writeHealth,
  });
  writeHealth();
  const chooseTarget = (): AlbTarget | null => group!.choose();

  const handle = (listener: AlbListener) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const created = new Date();
    const t0 = performance.now();
    const socket = req.socket;
    const clientAddr = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    const clientPort = socket.remotePort ?? 0;
    const listenerPort = socket.localPort ?? listener.port;
    const traceId = forwardedTraceId(headerValue(req, 'x-amzn-trace-id'));
    const hostHeader = headerValue(req, 'host') ?? (listener.protocol === 'https' ? (socket as tls.TLSSocket).servername || '' : '');
    const hostOnly = hostHeader.replace(/:\d+$/, '') || config.host;
    const requestLine = `${req.method} ${listener.protocol}://${hostOnly}:${listenerPort}${req.url} HTTP/${req.httpVersion}`;
    let receivedBytes = requestLine.length + 2;
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) receivedBytes += req.rawHeaders[i]!.length + req.rawHeaders[i + 1]!.length + 4;
    receivedBytes += 2;
    const tlsSocket = listener.protocol === 'https' ? (socket as tls.TLSSocket) : null;
    const cipher = tlsSocket?.getCipher?.() ?? null;
    let connTraceId = connIds.get(socket);
    if (!connTraceId) { connTraceId = `TID_${crypto.randomBytes(16).toString('hex')}`; connIds.set(socket, connTraceId); }

    let targetStatus: number | null = null;
    let target: AlbTarget | null = null;
    let tSent = 0;
    let tHead = 0;
    let sentBytes = 0;
    let logged = false;
    const writeLog = (elbStatus: number) => {
      if (logged || logFd === null) return;
      logged = true;
      const now = performance.now();
      const targetAddress = target ? key(target) : null;
      const record: AccessLogRecord = {
        type: listener.protocol,
        time: accessLogTime(new Date()),
        elb: config.elbId,
        client: `${clientAddr}:${clientPort}`,
        target: targetAddress,
        requestProcessingTime: target ? (tSent - t0) / 1000 : -1,
        targetProcessingTime: targetStatus !== null ? (tHead - tSent) / 1000 : -1,
        responseProcessingTime: targetStatus !== null ? (now - tHead) / 1000 : -1,
        elbStatusCode: elbStatus,
        targetStatusCode: targetStatus,
        receivedBytes,
        sentBytes,
        request: requestLine,
        userAgent: headerValue(req, 'user-agent'),
        sslCipher: cipher ? cipher.standardName ?? cipher.name : null,
        sslProtocol: tlsSocket ? tlsSocket.getProtocol() : null,
        targetGroupArn: config.targetGroupArn,
        traceId,
        domainName: tlsSocket ? (tlsSocket.servername || null) : null,
        chosenCertArn: tlsSocket ? config.certificateArn : null,
        // The default rule (priority 0) forwards to the target group.
        matchedRulePriority: config.targetGroupArn ? '0' : '-1',
        requestCreationTime: accessLogTime(created),
        actionsExecuted: 'forward',
        redirectUrl: null,
        errorReason: null,
        targetPortList: targetAddress,
        targetStatusCodeList: targetStatus === null ? null : String(targetStatus),
        classification: null,
        classificationReason: null,
        connTraceId,
        node: config.name,
      };
      fs.writeSync(logFd, formatAccessLogLine(record) + '\n');
    };

    let clientGone = false;
    const sendError = (status: number) => {
      if (clientGone) return;
      const body = albErrorPage(status);
      if (!res.headersSent) {
        res.writeHead(status, { Server: 'awselb/2.0', Date: new Date().toUTCString(), 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(body), Connection: 'keep-alive' });
        sentBytes += 160;
        res.end(req.method === 'HEAD' ? undefined : body);
        sentBytes += Buffer.byteLength(body);
      } else {
        socket.destroy();
      }
      writeLog(status);
    };

    target = chooseTarget();
    if (target === null) {
      req.resume();
      sendError(503);
      return;
    }

    const agent = poolFor(target);

    const headers = rawHeadersToObject(req.rawHeaders, (n) => HOP_BY_HOP.has(n) || n === 'x-forwarded-for' || n === 'x-forwarded-proto' || n === 'x-forwarded-port' || n === 'x-amzn-trace-id');
    headers['X-Forwarded-For'] = forwardedFor(headerValue(req, 'x-forwarded-for'), clientAddr);
    headers['X-Forwarded-Proto'] = listener.protocol;
    headers['X-Forwarded-Port'] = String(listenerPort);
    headers['X-Amzn-Trace-Id'] = traceId;
    headers['Connection'] = 'keep-alive';

    let timedOut = false;
    let done = false;
    const upstream = http.request({ host: target.ip, port: target.port, method: req.method, path: req.url, headers, agent, setHost: false });
    const timer = setTimeout(() => { timedOut = true; upstream.destroy(new Error('target timeout')); }, config.targetTimeoutMs);
    upstream.on('socket', () => { tSent = performance.now(); });
    upstream.on('response', (up) => {
      clearTimeout(timer);
      tHead = performance.now();
      targetStatus = up.statusCode ?? 0;
      const outHeaders = rawHeadersToObject(up.rawHeaders, (n) => HOP_BY_HOP.has(n));
      res.writeHead(targetStatus, up.statusMessage, outHeaders);
      sentBytes += 17 + up.rawHeaders.reduce((n, h) => n + h.length + 2, 0);
      up.on('data', (chunk: Buffer) => { sentBytes += chunk.length; });
      up.on('error', () => { socket.destroy(); });
      up.on('end', () => { done = true; });
      res.on('finish', () => writeLog(targetStatus ?? 0));
      up.pipe(res);
    });
    upstream.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (done || targetStatus !== null) { socket.destroy(); return; }
      const failure = classifyTargetError(err, timedOut);
      sendError(failure.status);
    });
    req.on('data', (chunk: Buffer) => { receivedBytes += chunk.length; });
    req.pipe(upstream);
    res.on('close', () => {
      if (!res.writableFinished) {
        // The client went away first: an ALB logs 460 for that.
        clientGone = true;
        clearTimeout(timer);
        writeLog(460);
        upstream.destroy();
      }
    });
  };

  const servers: net.Server[] = [];
  for (const l of config.listeners) {
    let server: http.Server;
    if (l.protocol === 'https') {
      if (!config.certFile || !config.keyFile) throw new Error(`listener ${l.port}: https needs certFile and keyFile`);
      server = https.createServer({ cert: fs.readFileSync(config.certFile), key: fs.readFileSync(config.keyFile) }, handle(l));
    } else {
      server = http.createServer(handle(l));
    }
    server.keepAliveTimeout = config.idleTimeoutMs;
    server.headersTimeout = config.idleTimeoutMs + 1000;
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(l.port, config.host, () => { server.off('error', reject); resolve(); });
    });
    servers.push(server);
  }

  return {
    firstChecks: group.firstChecks,
    async close() {
      group!.stop();
      for (const p of pools.values()) p.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => { s.close(() => r()); (s as http.Server).closeAllConnections?.(); })));
      if (logFd !== null) fs.closeSync(logFd);
    },
    reconfigure(next) {
      Object.assign(config, Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined)));
      group!.reconfigure({
        targets: next.targets, healthCheck: next.healthCheck, failOpen: next.failOpen, crossZone: next.crossZone, deregistrationDelayMs: next.deregistrationDelayMs,
      });
    },
    health() {
      return group!.status();
    },
    closeIdleConnections() {
      let n = 0;
      for (const p of pools.values()) n += p.closeIdle();
      return n;
    },
    ports() {
      return servers.map((s) => (s.address() as net.AddressInfo).port);
    },
  };
}
