/**
 * The keep-alive race on demand (as root): with `keepalive-race` on, the apps close an idle
 * connection after ~2 s (keep-alive timeout 1 s: Node closes a second after it) while the ALB
 * keeps it for 60 s. The request through a node after two seconds of quiet goes on a connection its target had closed: on that target's ens5, the
 * app's FIN goes out (and again: the VPC holds it, as if still in flight), then the ALB's
 * request comes in on the same connection and the host answers RST; the client gets the
 * ALB's 502; the next request opens a new connection and gets 200. Every time, not by chance.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { LAB, injectFault, healFault, spawnInLab, labExec } from '../../src/lab/index.js';
import { useLab } from '../helpers/lab.js';
import { ROOT_SKIP, curl, probePath, sleep } from './helpers.js';

interface Line { node: string; text: string }

/** tcpdump on ens5 of both instances, lines as they come (a FIN can be waited for). */
function watch(): { lines: Line[]; stop(): Promise<void>; ready: Promise<void> } {
  const lines: Line[] = [];
  const children: ChildProcess[] = [];
  const ready = Promise.all(LAB.targets.map((t) => new Promise<void>((resolve, reject) => {
    const c = spawnInLab(t.node, ['tcpdump', '-i', 'ens5', '-nn', '-l', '-A', '-s', '1600', '--immediate-mode', `tcp port ${LAB.instance.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    let buf = '';
    c.stdout!.on('data', (b: Buffer) => {
      buf += b.toString('latin1');
      const parts = buf.split('\n');
      buf = parts.pop()!;
      for (const text of parts) lines.push({ node: t.name, text });
    });
    let err = '';
    c.stderr!.on('data', (b: Buffer) => { err += b.toString(); if (err.includes('listening on')) resolve(); });
    c.on('close', () => reject(new Error(`tcpdump in ${t.node}: ${err}`)));
  }))).then(() => undefined);
  return {
    lines, ready,
    async stop() {
      await sleep(150);
      await Promise.all(children.map((c) => new Promise<void>((r) => { c.removeAllListeners('close'); c.on('close', () => r()); if (c.pid) process.kill(c.pid, 'SIGINT'); })));
    },
  };
}

const HEADER = /^\d\d:\d\d:\d\d\.\d+ IP (\S+) > (\S+): Flags \[([^\]]*)\]/;

describe('the keep-alive race, on demand (root)', { skip: ROOT_SKIP }, () => {
  useLab();

  test('keepalive-race: FIN out, the request in on that connection, RST out, ALB 502; the next request 200; twice in a row', async () => {
    await injectFault('keepalive-race');
    const cap = watch();
    await cap.ready;
    // The app's FIN is sent again and again (the VPC holds it): wait until one is on the wire.
    const instances = LAB.targets.map((t) => t.ens5);
    const isFin = (l: Line): boolean => { const m = HEADER.exec(l.text); return m !== null && m[3]!.includes('F') && instances.some((a) => m[1]!.startsWith(`${a}.80`)); };
    for (let i = 0; i < 100 && !cap.lines.some(isFin); i++) await sleep(100);
    assert.ok(cap.lines.some(isFin), 'the apps\' FINs on ens5');
    // Each FIN is sent again at doubling intervals (0.2, 0.4, 0.8, 1.6 s…): wait for the next
    // round, so that the capture has each idle connection's FIN before its request.
    await sleep(1700);

    const path = probePath('race');
    const first = await curl(`http://${LAB.domain}${path}`, ['--resolve', `${LAB.domain}:80:${LAB.albA.public}`]);
    const second = await curl(`http://${LAB.domain}${path}-again`, ['--resolve', `${LAB.domain}:80:${LAB.albA.public}`]);
    const third = await curl(`http://${LAB.domain}${path}-third`, ['--resolve', `${LAB.domain}:80:${LAB.albA.public}`]);
    await cap.stop();
    assert.equal(first.status, 502, `the first request after two seconds of quiet: ${first.body.slice(0, 80)}\n${cap.lines.filter((l) => HEADER.test(l.text) && !l.text.includes('ELB-Health')).map((l) => `${l.node} ${l.text.slice(0, 110)}`).join('\n')}`);
    assert.match(first.body, /502 Bad Gateway/);
    // Round robin: the second goes to the other target, whose idle connection was closed too.
    assert.equal(second.status, 502, 'the other target\'s idle connection was closed as well');
    assert.equal(third.status, 200, 'a new connection: answered');

    // The request's connection on the target that got it: FIN out before it, the request in, RST out.
    const reqIdx = cap.lines.findIndex((l) => l.text.includes(`GET ${path} HTTP/1.1`));
    assert.ok(reqIdx > 0, 'the request on ens5');
    const header = [...cap.lines.slice(0, reqIdx + 1)].reverse().find((l) => HEADER.test(l.text) && l.node === cap.lines[reqIdx]!.node)!;
    const [, alb, target] = HEADER.exec(header.text)!;
    const onConn = cap.lines.filter((l) => l.node === header.node && HEADER.test(l.text)).map((l) => ({ l, m: HEADER.exec(l.text)! }))
      .filter(({ m }) => (m[1] === alb && m[2] === `${target}`) || (m[1] === target && m[2] === `${alb}`));
    const at = onConn.findIndex(({ l }) => l === header);
    assert.ok(onConn.slice(0, at).some(({ m }) => m[1] === target && m[3]!.includes('F')), `the app's FIN left ens5 before the request:\n${onConn.map(({ l }) => l.text).join('\n')}`);
    assert.ok(!onConn.slice(0, at).some(({ m }) => m[3]!.includes('S')), 'a kept-alive connection: no handshake before the request');
    assert.ok(onConn.slice(at + 1).some(({ m }) => m[1] === target && m[3]!.includes('R')), 'the host answered the request with RST');

    // The kernel says so too: data arrived on a connection the app had closed.
    const container = LAB.targets.find((t) => t.name === header.node)!.container;
    const abort = await labExec(container, ['nstat', '-az', 'TcpExtTCPAbortOnData']);
    assert.match(abort.stdout, /TcpExtTCPAbortOnData\s+[1-9]/);

    // On demand again: after two seconds of quiet, the target whose connection the third request
    // left idle has closed it — the round robin comes back to it on the second request.
    await sleep(2500);
    const via = (): Promise<{ status: number }> => curl(`http://${LAB.domain}/`, ['--resolve', `${LAB.domain}:80:${LAB.albA.public}`]);
    const fourth = await via();
    const fifth = await via();
    assert.deepEqual([fourth.status, fifth.status], [200, 502], 'a new connection to the target that had none; the idle one, closed by its app, to the other');
    await healFault('keepalive-race');
    const healed = await curl(`http://${LAB.domain}/`, ['--resolve', `${LAB.domain}:80:${LAB.albA.public}`]);
    assert.equal(healed.status, 200);
  });
});
