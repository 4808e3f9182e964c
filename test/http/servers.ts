/**
 * Local servers for the HTTP probe tests, on 127.0.0.1 only, and a test PKI made with the
 * real openssl: a CA, a good certificate (localhost, app.test, 127.0.0.1), one for another
 * name, and an expired one (`-days -1`: notAfter before now).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestPki {
  dir: string;
  caFile: string;
  good: { key: Buffer; cert: Buffer };
  wrongName: { key: Buffer; cert: Buffer };
  expired: { key: Buffer; cert: Buffer };
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'ftthttp-pki-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=flowtrace test CA'], dir);
  const leafWithSan = (name: string, cn: string, san: string, days: string): { key: Buffer; cert: Buffer } => {
    writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\n`);
    openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', days, '-extfile', `${name}.ext`, '-out', `${name}.pem`], dir);
    return { key: readFileSync(path.join(dir, `${name}.key`)), cert: readFileSync(path.join(dir, `${name}.pem`)) };
  };
  return {
    dir,
    caFile: path.join(dir, 'ca.pem'),
    good: leafWithSan('good', 'app.test', 'DNS:app.test,DNS:localhost,IP:127.0.0.1', '2'),
    wrongName: leafWithSan('wrong', 'other.test', 'DNS:other.test', '2'),
    expired: leafWithSan('expired', 'app.test', 'DNS:app.test,IP:127.0.0.1', '-1'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Running {
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (random port) and tracks sockets so close() never waits on a hung one. */
export async function listen(server: net.Server): Promise<Running> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); s.on('error', () => {}); });
  server.on('secureConnection', (s: net.Socket) => { s.on('error', () => {}); });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

export function httpServer(handler: http.RequestListener): Promise<Running> {
  return listen(http.createServer(handler));
}

export function httpsServer(creds: { key: Buffer; cert: Buffer }, handler: http.RequestListener): Promise<Running> {
  return listen(https.createServer(creds, handler));
}

/** A raw TCP server: `onSocket` decides what the "HTTP server" does with the bytes. */
export function rawServer(onSocket: (s: net.Socket) => void): Promise<Running> {
  return listen(net.createServer(onSocket));
}
