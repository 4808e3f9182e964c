/**
 * The container's application: a small HTTP server that says what it saw.
 *   GET /            → 200 JSON { service, peer, xForwardedFor, xForwardedProto, xForwardedPort, traceId, host, method, path, … }
 *   GET /slow?ms=N   → the same, after N ms (at most 120 s)
 *   GET /status/NNN  → status NNN (100 < NNN < 600) with the same JSON body
 * `delayMs` delays every answer (the `app-slow` fault); `status` forces every status (`app-500`).
 */
import http from 'node:http';
import os from 'node:os';

export interface AppOptions {
  port: number;
  host?: string;
  delayMs?: number;
  /** 0 = normal behaviour; otherwise every response has this status. */
  status?: number;
}

export interface AppSeen {
  service: 'flowtrace-lab-app';
  hostname: string;
  peer: string;
  method: string;
  path: string;
  host: string | null;
  xForwardedFor: string | null;
  xForwardedProto: string | null;
  xForwardedPort: string | null;
  traceId: string | null;
  userAgent: string | null;
  time: string;
}

const MAX_SLOW_MS = 120_000;

function header(req: http.IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  if (v === undefined) return null;
  return Array.isArray(v) ? v.join(', ') : v;
}

export function createApp(opts: AppOptions): http.Server {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://app.invalid');
    let status = 200;
    let delayMs = opts.delayMs ?? 0;
    if (url.pathname === '/slow') {
      const ms = Number(url.searchParams.get('ms') ?? '1000');
      delayMs += Number.isFinite(ms) && ms >= 0 ? Math.min(ms, MAX_SLOW_MS) : 0;
    }
    const m = /^\/status\/(\d{3})$/.exec(url.pathname);
    if (m) {
      const s = Number(m[1]);
      if (s >= 200 && s < 600) status = s;
    }
    if (opts.status) status = opts.status;
    const seen: AppSeen = {
      service: 'flowtrace-lab-app',
      hostname: os.hostname(),
      peer: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
      method: req.method ?? '',
      path: req.url ?? '',
      host: header(req, 'host'),
      xForwardedFor: header(req, 'x-forwarded-for'),
      xForwardedProto: header(req, 'x-forwarded-proto'),
      xForwardedPort: header(req, 'x-forwarded-port'),
      traceId: header(req, 'x-amzn-trace-id'),
      userAgent: header(req, 'user-agent'),
      time: new Date().toISOString(),
    };
    const body = JSON.stringify(seen) + '\n';
    const answer = () => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    req.resume();
    req.on('end', () => {
      if (delayMs > 0) setTimeout(answer, delayMs); else answer();
    });
  });
  server.keepAliveTimeout = 65_000; // longer than the ALB's idle timeout, as AWS recommends
  return server;
}
