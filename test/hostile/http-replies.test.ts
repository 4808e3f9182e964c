/**
 * `flowtrace http` on hostile replies and options (issue 13):
 *   - `--timeout 1e12` failed at once with Node's TimeoutOverflowWarning and "timed out
 *     waiting for the TCP handshake" (a false firewall hint): now a usage error naming the
 *     maximum (86 400 s), exit 2, before anything is sent;
 *   - a 50 MB response header got "is it TLS?": now HTTP_HEADER_TOO_LARGE with the limit;
 *   - plain HTTP to a TLS port did not mention TLS: now HTTP_TLS_PORT with the https:// URL,
 *     whether the port answers with a TLS record or closes without a word;
 *   - https:// to a plain port says the reverse, with the http:// URL.
 * Every server is on 127.0.0.1; every error is one line and a hint, exit 6, no stack trace.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';
import { MAX_RESPONSE_HEAD_BYTES, MAX_TIMEOUT_MS } from '../../src/http/index.js';
import { listen, makeTestPki, type Running, type TestPki } from '../http/servers.js';
import { runCli } from './inputs.js';

/** One line of error and one of hint, nothing else (no stack trace). */
function assertOneError(stderr: string, code: string): RegExpExecArray {
  const m = new RegExp(`^error\\[${code}\\]: ([^\\n]+)\\nhint: ([^\\n]+)\\n$`).exec(stderr);
  assert.ok(m, stderr);
  return m;
}

async function http_(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(['http', ...args], io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

describe('deadlines above the maximum are usage errors', () => {
  for (const flag of ['--timeout', '-m', '--max-time', '--connect-timeout']) {
    it(`${flag} 1e12: exit 2, the maximum in the hint, no Node warning, nothing sent`, async () => {
      let connections = 0;
      const server = await listen(net.createServer((s) => { connections++; s.destroy(); }));
      try {
        const run = runCli(['http', `http://127.0.0.1:${server.port}/`, flag, '1e12']);
        const { code } = await run.exited;
        assert.equal(code, EXIT.usage, run.stderr);
        const [, message, hint] = assertOneError(run.stderr, 'USAGE');
        assert.equal(message, `${flag === '-m' ? '--max-time' : flag} 1e12 is more than the maximum, ${MAX_TIMEOUT_MS / 1000} seconds (one day)`);
        assert.equal(hint, `give at most ${flag === '-m' ? '--max-time' : flag} 86400`);
        assert.doesNotMatch(run.stderr, /TimeoutOverflowWarning|TCP handshake/);
        assert.equal(connections, 0);
      } finally {
        await server.close();
      }
    });
  }

  it('the maximum itself is accepted and the request works', async () => {
    const server = await listen(http.createServer((_q, r) => r.end('ok')));
    try {
      const run = runCli(['http', `http://127.0.0.1:${server.port}/`, '--timeout', '86400', '--connect-timeout', '86400']);
      const { code } = await run.exited;
      assert.equal(code, EXIT.ok, run.stderr);
      assert.doesNotMatch(run.stderr, /Warning/);
    } finally {
      await server.close();
    }
  });
});

describe('replies that are not what the URL says', () => {
  let pki: TestPki;
  let tlsPort: Running;
  let alertPort: Running;
  let plainPort: Running;
  let hugeHead: Running;
  let ssh: Running;
  before(async () => {
    pki = makeTestPki();
    tlsPort = await listen(https.createServer({ key: pki.good.key, cert: pki.good.cert }, (_q, r) => r.end('ok')));
    // A TLS server that answers plain text with an alert (OpenSSL's s_server, many proxies):
    // record type 21, TLS 1.2, 2 bytes: fatal (2), unexpected_message (10).
    alertPort = await listen(net.createServer((s) => s.once('data', () => s.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a])))));
    plainPort = await listen(http.createServer((_q, r) => r.end('ok')));
    // 50 MB of one header line, written as fast as the client reads it.
    hugeHead = await listen(net.createServer((s) => s.once('data', () => {
      s.on('error', () => {});
      s.write('HTTP/1.1 200 OK\r\nX-Huge: ');
      const chunk = Buffer.alloc(1 << 20, 0x61);
      let sent = 0;
      const pump = (): void => {
        while (sent < 50 && !s.destroyed) { sent++; if (!s.write(chunk)) { s.once('drain', pump); return; } }
        if (!s.destroyed) s.end('\r\n\r\n');
      };
      pump();
    })));
    ssh = await listen(net.createServer((s) => s.once('data', () => s.end('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'))));
  });
  after(async () => {
    for (const s of [tlsPort, alertPort, plainPort, hugeHead, ssh]) await s?.close();
    pki?.remove();
  });

  it('a 50 MB response header: HTTP_HEADER_TOO_LARGE naming the limit, at once, not "is it TLS?"', async () => {
    const t0 = performance.now();
    const r = await http_([`http://127.0.0.1:${hugeHead.port}/`]);
    const ms = performance.now() - t0;
    assert.equal(r.code, EXIT.network, r.err);
    const [, message, hint] = assertOneError(r.err, 'HTTP_HEADER_TOO_LARGE');
    assert.equal(message, `header too large: the response head from 127.0.0.1:${hugeHead.port} is over the limit of ${MAX_RESPONSE_HEAD_BYTES} bytes (curl's limit too) [phase: download]`);
    assert.doesNotMatch(hint, /TLS/);
    assert.ok(ms < 5000, `${ms.toFixed(0)} ms: reading stops at the limit`);
  });

  it('plain HTTP to a TLS port that closes without a word (Node\'s): HTTP_TLS_PORT, use https://', async () => {
    const r = await http_([`http://127.0.0.1:${tlsPort.port}/path?q=1`]);
    assert.equal(r.code, EXIT.network, r.err);
    const [, message, hint] = assertOneError(r.err, 'HTTP_TLS_PORT');
    assert.match(message, /closed the connection without answering the plain HTTP request, and completes a TLS handshake/);
    assert.equal(hint, `this port speaks TLS: use https://127.0.0.1:${tlsPort.port}/path?q=1 (-k if its certificate is not for this name)`);
  });

  it('plain HTTP to a TLS port that answers with a TLS alert: HTTP_TLS_PORT from the bytes it sent', async () => {
    const r = await http_([`http://127.0.0.1:${alertPort.port}/`]);
    assert.equal(r.code, EXIT.network, r.err);
    const [, message, hint] = assertOneError(r.err, 'HTTP_TLS_PORT');
    assert.match(message, /answered the plain HTTP request with TLS \(a TLS alert record\)/);
    assert.match(hint, new RegExp(`^this port speaks TLS: use https://127\\.0\\.0\\.1:${alertPort.port}/`));
  });

  it('https:// to a plain HTTP port: TLS_HANDSHAKE saying it is no TLS, use http://', async () => {
    const r = await http_([`https://127.0.0.1:${plainPort.port}/`]);
    assert.equal(r.code, EXIT.network, r.err);
    const [, message, hint] = assertOneError(r.err, 'TLS_HANDSHAKE');
    assert.match(message, /did not answer with TLS \(ERR_SSL_WRONG_VERSION_NUMBER\): what it sent is no TLS record/);
    assert.equal(hint, `this port speaks plain HTTP or another protocol: use http://127.0.0.1:${plainPort.port}/, or the port that serves TLS`);
  });

  it('another protocol on the port: HTTP_PARSE showing what it sent', async () => {
    const r = await http_([`http://127.0.0.1:${ssh.port}/`]);
    assert.equal(r.code, EXIT.network, r.err);
    const [, message] = assertOneError(r.err, 'HTTP_PARSE');
    assert.match(message, /it began with "SSH-2\.0-OpenSSH_9\.2p1 De"/);
    assert.doesNotMatch(r.err, /is it TLS/);
  });

  it('a plain server that closes without a word stays an empty reply (the TLS check finds no TLS)', async () => {
    const quiet = await listen(net.createServer((s) => s.once('data', () => s.end())));
    try {
      const r = await http_([`http://127.0.0.1:${quiet.port}/`]);
      assertOneError(r.err, 'HTTP_EMPTY_REPLY');
    } finally {
      await quiet.close();
    }
  });
});
