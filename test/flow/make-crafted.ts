/**
 * Regenerates the CRAFTED captures in test/data/flow/ (crafted-*.pcap + .ifmap): TCP
 * conversations built byte by byte (craft.ts) for the cases a real capture does not give on
 * demand — retransmissions, a RST from the container, pipelining, heads split over segments,
 * a keep-alive connection without handshake, chunked bodies, a SYN seen only on ens5,
 * reordering / loss / zero window.
 *
 *   node --import tsx test/flow/make-crafted.ts
 *
 * Deterministic: the same bytes every run. Then refresh the goldens with
 *   UPDATE_GOLDEN=1 node --import tsx --test test/flow/golden.test.ts
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CRAFTED_IFMAP, Conversation, dockerPath, merge, writePcap, type Frame } from './craft.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const DATA_DIR = path.resolve(here, '..', 'data', 'flow');

const ALB = '172.31.0.10';
const ALB2 = '172.31.16.10';
const HOST: [string, number] = ['172.31.5.20', 80];
const TRACE_A = 'Root=1-6741f0b0-aaaaaaaaaaaaaaaaaaaaaaaa';
const TRACE_B = 'Root=1-6741f0b1-bbbbbbbbbbbbbbbbbbbbbbbb';

function get(p: string, trace: string, xff: string, extra = ''): string {
  return `GET ${p} HTTP/1.1\r\nHost: app.seqas.online\r\nX-Forwarded-For: ${xff}\r\nX-Forwarded-Proto: https\r\nX-Amzn-Trace-Id: ${trace}\r\n${extra}\r\n`;
}

function ok(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

export interface CraftedCapture {
  description: string;
  frames: Frame[];
  linkType: 'sll2' | 'ethernet';
  ifmap: string | null;
}

function docker(clientPort: number, startUs?: number, client = ALB): Conversation {
  return new Conversation({ client: [client, clientPort], server: HOST, ...dockerPath(), ...(startUs ? { startUs } : {}) });
}

export function craftedCaptures(): Record<string, CraftedCapture> {
  const out: Record<string, CraftedCapture> = {};

  {
    // The server's response is retransmitted after 200 ms (RTO), and the request twice.
    const c = docker(40001);
    const req = get('/retry', TRACE_A, '203.0.113.9');
    c.handshake();
    const reqStart = c.seqOf('client');
    c.send('client', req).wait(200_000).emit('client', 'PA', req, { seq: reqStart });
    c.wait(300).emit('server', 'A');
    const resStart = c.seqOf('server');
    c.wait(1200).send('server', ok('retried\n'));
    c.wait(200_000).emit('server', 'PA', ok('retried\n'), { seq: resStart });
    c.wait(100).emit('client', 'A').wait(1000).close();
    out['crafted-retransmission'] = { description: 'request and response each retransmitted once (RTO 200 ms) through the Docker path', frames: c.frames, linkType: 'sll2', ifmap: CRAFTED_IFMAP };
  }
  {
    // The container resets the connection after the request (the app crashed).
    const c = docker(40002);
    c.handshake().send('client', get('/crash', TRACE_A, '203.0.113.10')).wait(300).emit('server', 'A').wait(4000).emit('server', 'RA');
    out['crafted-rst'] = { description: 'the container answers a request with RST (app crashed): exchange reset, RST first seen on the veth', frames: c.frames, linkType: 'sll2', ifmap: CRAFTED_IFMAP };
  }
  {
    // Three pipelined requests in one segment (HEAD, GET, GET); responses in two segments.
    const c = docker(40003);
    const reqs = `HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n` + get('/b', TRACE_A, '198.51.100.1') + get('/c', TRACE_B, '198.51.100.2');
    c.handshake().send('client', reqs).wait(300).emit('server', 'A').wait(800);
    const head = `HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n`; // HEAD: no body despite the length
    c.send('server', head + ok('bbbb\n')).wait(500).send('server', ok('cccccc\n')).wait(100).emit('client', 'A').close();
    out['crafted-pipelining'] = { description: 'HEAD + two GETs pipelined in one segment; responses paired in order (HEAD response has no body)', frames: c.frames, linkType: 'sll2', ifmap: CRAFTED_IFMAP };
  }
  {
    // Heads split across segments, even inside the CRLFCRLF; a body split too.
    const c = docker(40004);
    const req = get('/split', TRACE_A, '192.0.2.44');
    c.handshake().send('client', req, [7, 60, req.length - 67 - 2]).wait(300).emit('server', 'A');
    const res = ok('0123456789abcdef\n');
    const headLen = res.indexOf('\r\n\r\n') + 4;
    c.wait(700).send('server', res, [20, headLen - 21, 5]).wait(100).emit('client', 'A').close();
    out['crafted-split-heads'] = { description: 'request head in 4 segments (cut inside CRLFCRLF), response head in 2 and its body in 2', frames: c.frames, linkType: 'sll2', ifmap: CRAFTED_IFMAP };
  }
  {
    // A load balancer's keep-alive connection already open when the capture started: no
    // handshake; the first packet seen is the server's ACK.
    const c = docker(40005, undefined, ALB2);
    c.emit('server', 'A').wait(2000).send('client', get('/one', TRACE_A, '203.0.113.50')).wait(900).send('server', ok('one\n'))
      .wait(100).emit('client', 'A').wait(30_000).send('client', get('/two', TRACE_B, '203.0.113.51')).wait(1100).send('server', ok('two\n'))
      .wait(100).emit('client', 'A');
    out['crafted-keepalive-midstream'] = { description: 'keep-alive connection without handshake in the capture (first packet: the server ACK); roles from HTTP', frames: c.frames, linkType: 'sll2', ifmap: CRAFTED_IFMAP };
  }
  {
    // Chunked response with extensions and trailers, split at awkward places, then a second exchange.
    const c = docker(40006);
    c.handshake().send('client', get('/stream', TRACE_A, '203.0.113.60')).wait(300).emit('server', 'A');
    const chunked = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n'
      + '5;ext=1\r\nhello\r\n' + '1A\r\n' + 'abcdefghijklmnopqrstuvwxyz' + '\r\n' + '0\r\nX-Checksum: 42\r\n\r\n';
    c.wait(600).send('server', chunked, [70, 9, 14, 20]).wait(100).emit('client', 'A');
    c.wait(5000).send('client', get('/after', TRACE_B, '203.0.113.61')).wait(700).send('server', ok('after\n')).wait(100).emit('client', 'A').close();
    out['crafted-chunked'] = { description: 'chunked response (extension, trailer, split mid-chunk) followed by a second exchange on the connection', frames: c.frames, linkType: 'sll2', ifmap: CRAFTED_IFMAP };
  }
  {
    // SYN seen on ens5 only, retransmitted (1 s, 2 s), never answered: dropped on the host.
    const c = docker(40007);
    c.emit('client', 'S', '', { onlyPoints: [0], noAdvance: true }).wait(1_000_000)
      .emit('client', 'S', '', { onlyPoints: [0], noAdvance: true }).wait(2_000_000)
      .emit('client', 'S', '', { onlyPoints: [0], noAdvance: true });
    out['crafted-dnat-missing'] = { description: 'SYN on ens5 only (+2 retransmissions), never on docker0, never answered', frames: c.frames, linkType: 'sll2', ifmap: CRAFTED_IFMAP };
  }
  {
    // Plain single-interface capture (Ethernet): reordering, a segment never captured, a zero window.
    const c = new Conversation({ client: ['10.0.0.1', 50000], server: ['10.0.0.2', 8080] });
    c.handshake().send('client', 'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n');
    const base = c.seqOf('client');
    const body = 'x'.repeat(1000);
    // Segments 2 then 1 (reordered by 200 µs), segment 3 never seen, then more data after it.
    c.emit('client', 'PA', body, { seq: base + 1000 }).wait(200).emit('client', 'PA', body, { seq: base });
    c.emit('client', 'PA', 'tail', { seq: base + 3000 });
    c.wait(500).emit('server', 'A', '', { window: 0 }).wait(20_000).emit('server', 'A', '', { window: 0 }).wait(20_000).emit('server', 'A', '', { window: 512 });
    c.wait(1000).emit('server', 'PA', 'HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n').emit('server', 'FA', '').wait(200).emit('client', 'RA', '', { seq: base + 3004 });
    out['crafted-loss-window'] = { description: 'Ethernet capture: out-of-order segment, one segment never captured, server zero window, 413 then client RST', frames: c.frames, linkType: 'ethernet', ifmap: null };
  }
  {
    // Two SYNs to a plain server, no answer at all, no bridge in the capture: syn-unanswered.
    const c = new Conversation({ client: ['10.0.0.1', 50001], server: ['10.0.0.3', 443] });
    c.emit('client', 'S', '', { noAdvance: true }).wait(1_000_000).emit('client', 'S', '', { noAdvance: true });
    const d = new Conversation({ client: ['10.0.0.1', 50002], server: ['10.0.0.2', 8080], startUs: 1_764_000_000_300_000 });
    d.handshake().send('client', 'GET /health HTTP/1.0\r\n\r\n').wait(300).send('server', 'HTTP/1.0 200 OK\r\n\r\nfine\n').emit('server', 'FA').wait(100).emit('client', 'FA').emit('server', 'A');
    out['crafted-syn-unanswered'] = { description: 'Ethernet capture: unanswered SYNs to :443 next to an HTTP/1.0 exchange whose body runs until close', frames: merge(c, d), linkType: 'ethernet', ifmap: null };
  }
  return out;
}

function main(): void {
  for (const [name, cap] of Object.entries(craftedCaptures())) {
    writePcap(path.join(DATA_DIR, `${name}.pcap`), cap.frames, cap.linkType);
    if (cap.ifmap) writeFileSync(path.join(DATA_DIR, `${name}.ifmap`), cap.ifmap);
    console.log(`wrote ${name}.pcap (${cap.frames.length} frames): ${cap.description}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
