/**
 * Local DNS servers for tests, on loopback only: a scriptable UDP+TCP server built with
 * dns-packet, and a real dnsmasq on 127.0.0.x with a high port. Every process is ended by
 * its PID in stop().
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Answer, DecodedPacket } from 'dns-packet';
import { resolve } from '../../src/dns/index.js';

export type Behaviour =
  | { kind: 'answer'; answers: Answer[]; rcode?: number }
  | { kind: 'drop' }
  | { kind: 'spoof-then-answer'; answers: Answer[] }
  | { kind: 'truncate-udp'; answers: Answer[] };

export interface TinyServer {
  port: number;
  udpQueries: number;
  tcpQueries: number;
  stop(): Promise<void>;
}

function reply(q: DecodedPacket, answers: Answer[], rcode = 0, tc = false): Buffer {
  return dnsPacket.encode({
    type: 'response', id: q.id,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (tc ? dnsPacket.TRUNCATED_RESPONSE : 0) | rcode,
    questions: q.questions, answers: tc ? [] : answers,
  });
}

/** A UDP and TCP DNS server on 127.0.0.1 (same port) answering per `behaviour(question)`. */
export async function startTinyServer(behaviour: (q: DecodedPacket) => Behaviour): Promise<TinyServer> {
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  const port = udp.address().port;
  const state = { port, udpQueries: 0, tcpQueries: 0 };
  udp.on('message', (msg, rinfo) => {
    state.udpQueries++;
    const q = dnsPacket.decode(msg);
    const b = behaviour(q);
    const send = (buf: Buffer): void => { udp.send(buf, rinfo.port, rinfo.address); };
    if (b.kind === 'answer') send(reply(q, b.answers, b.rcode));
    else if (b.kind === 'spoof-then-answer') {
      send(reply({ ...q, id: (q.id! + 1) & 0xffff }, [{ type: 'A', name: q.questions![0].name, ttl: 1, data: '6.6.6.6' }]));
      setTimeout(() => send(reply(q, b.answers)), 20);
    } else if (b.kind === 'truncate-udp') send(reply(q, b.answers, 0, true));
  });
  const tcp = net.createServer((sock) => {
    let pending = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const msg = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + msg.length);
        state.tcpQueries++;
        const q = dnsPacket.decode(msg);
        const b = behaviour(q);
        if (b.kind === 'drop') continue;
        const out = reply(q, 'answers' in b ? b.answers : [], b.kind === 'answer' ? b.rcode : 0);
        const framed = Buffer.alloc(2 + out.length);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        sock.write(framed);
      }
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => tcp.listen(port, '127.0.0.1', r));
  return Object.assign(state, {
    async stop() {
      udp.close();
      await new Promise<void>((r) => tcp.close(() => r()));
    },
  });
}

export interface Dnsmasq {
  server: string;
  proc: ChildProcess;
  stop(): Promise<void>;
}

/** A real dnsmasq on 127.0.0.<host> with a free-looking high port; waits until it answers. */
export async function startDnsmasq(records: string[], host = '127.0.0.79'): Promise<Dnsmasq> {
  for (let tries = 0; tries < 5; tries++) {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const proc = spawn('dnsmasq', [
      '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--keep-in-foreground', '--bind-interfaces',
      `--listen-address=${host}`, `--port=${port}`, '--local=/test/', ...records,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d) => { stderr += String(d); });
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const stop = async (): Promise<void> => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    };
    const server = `${host}:${port}`;
    for (let i = 0; i < 40; i++) {
      if (proc.exitCode !== null) break;
      const r = await resolve('ready.test', { server, types: ['A'], timeoutMs: 100, retries: 0 });
      if (r.status !== 'timeout' && r.status !== 'unreachable') return { server, proc, stop };
      await new Promise((res) => setTimeout(res, 50));
    }
    await stop();
    if (!/Address already in use/i.test(stderr)) throw new Error(`dnsmasq did not start: ${stderr.trim()}`);
  }
  throw new Error('dnsmasq: no free port found');
}
