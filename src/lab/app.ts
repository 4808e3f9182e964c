/**
 * The container's application: a small HTTP server that says what it saw.
 *   GET /            → 200 JSON { service, peer, xForwardedFor, xForwardedProto, xForwardedPort, traceId, host, method, path, … }
 *   GET /slow?ms=N   → the same, after N ms (at most 120 s)
 *   GET /status/NNN  → status NNN (100 < NNN < 600) with the same JSON body
 *   GET /page        → 200 text/html: a catalogue page of PAGE_BYTES (the same bytes every time), an
 *                      answer that takes several full-size TCP segments as real pages do
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

/** Rows in the catalogue page: 16 KiB and a little more, so it never fits one segment. */
const PAGE_ROWS = 153;

function catalogueRow(i: number): string {
  const sku = `SQ-${(1000 + i * 37).toString(36).toUpperCase().padStart(4, '0')}`;
  const price = ((i * 7919) % 9000 + 1000) / 100;
  return `<tr><td>${sku}</td><td>Seqas widget model ${String(i + 1).padStart(3, '0')}</td><td class="price">${price.toFixed(2)} EUR</td><td>in stock</td></tr>\n`;
}

/** The page behind `GET /page`: deterministic HTML of a little over 16 KiB. */
export const LAB_PAGE: Buffer = Buffer.from(
  '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>seqas.online - catalogue</title></head>\n'
  + '<body><h1>Catalogue</h1>\n<table>\n<tr><th>SKU</th><th>Product</th><th>Price</th><th>Stock</th></tr>\n'
  + Array.from({ length: PAGE_ROWS }, (_, i) => catalogueRow(i)).join('')
  + '</table>\n</body></html>\n',
  'utf8',
);

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
    const page = url.pathname === '/page';
    const body = page ? LAB_PAGE : Buffer.from(JSON.stringify(seen) + '\n', 'utf8');
    const answer = () => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': page ? 'text/html; charset=utf-8' : 'application/json', 'content-length': body.length });
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
