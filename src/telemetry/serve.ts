/**
 * The /metrics endpoint (`watch --metrics [HOST]:PORT`): a node:http server that answers
 * GET /metrics with the registry's exposition and 404 elsewhere. `:9464` listens on every
 * address, as Prometheus exporters do (9464 is the port OpenTelemetry's Prometheus exporter uses).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NetworkError, UsageError } from '../errors.js';
import type { WatchMetrics } from './metrics.js';

export const DEFAULT_METRICS_PORT = 9464;

export interface ListenAddress {
  /** null: every address. */
  host: string | null;
  port: number;
}

/** `[HOST]:PORT` → where to listen (`:9464`, `127.0.0.1:9464`, `[::1]:9464`, `9464`). */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]*):)?(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`bad --metrics '${text}'`, `[HOST]:PORT, e.g. --metrics :${DEFAULT_METRICS_PORT} (every address) or --metrics 127.0.0.1:${DEFAULT_METRICS_PORT}`);
  const host = m[1] ? m[1].replace(/^\[|\]$/g, '') : null;
  return { host, port };
}

export interface MetricsServer {
  /** The address and port it listens on (the port chosen by the system for port 0). */
  address: string;
  port: number;
  /** `http://ADDRESS:PORT/metrics`. */
  url: string;
  close(): Promise<void>;
}

export async function serveMetrics(metrics: WatchMetrics, at: ListenAddress): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return; }
    if (path !== '/metrics') { res.writeHead(404, { 'content-type': 'text/plain' }).end('flowtrace watch: the metrics are at /metrics\n'); return; }
    metrics.text().then((body) => {
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    }, (err: Error) => { res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`); });
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new NetworkError('METRICS_LISTEN', `cannot serve the metrics on ${at.host ?? '*'}:${at.port}: ${err.code ?? err.message}`,
      err.code === 'EADDRINUSE' ? 'another program has that port: give another, e.g. --metrics :9465' : 'give an address of this machine, e.g. --metrics 127.0.0.1:9464', { host: at.host, port: at.port })));
    if (at.host === null) server.listen(at.port, resolve); else server.listen(at.port, at.host, resolve);
  });
  const a = server.address() as AddressInfo;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return {
    address: a.address, port: a.port, url: `http://${host}:${a.port}/metrics`,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
  };
}
