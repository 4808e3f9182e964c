/**
 * Container names from the Docker Engine API over its unix socket, with a fake Docker in
 * the test (an HTTP server on a unix socket answering GET /containers/json and
 * /containers/{id}/json like dockerd does). The unit part needs nothing; the second test
 * builds the miniature EC2 host (`fttcapd-` namespaces, root) so the fake Docker's
 * container PID is the real server process behind the veth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { listDockerContainers, startCapture } from '../../src/capture/live/index.js';
import { buildMiniHost, isRoot, leftovers, HOST } from './host.js';

interface Fake { socket: string; requests: string[]; close(): Promise<void> }

async function fakeDocker(containers: Array<{ id: string; name: string; image: string; pid: number }>, opts: { status?: number } = {}): Promise<Fake> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fttcap-docker-'));
  const socket = path.join(dir, 'docker.sock');
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.setHeader('Content-Type', 'application/json');
    if (opts.status) { res.statusCode = opts.status; res.end('{"message":"boom"}'); return; }
    if (req.url === '/containers/json') {
      res.end(JSON.stringify(containers.map((c) => ({ Id: c.id, Names: [`/${c.name}`], Image: c.image, State: 'running' }))));
      return;
    }
    const m = /^\/containers\/([0-9a-f]+)\/json$/.exec(req.url ?? '');
    const c = m && containers.find((x) => x.id === m[1]);
    if (!c) { res.statusCode = 404; res.end('{"message":"No such container"}'); return; }
    res.end(JSON.stringify({ Id: c.id, Name: `/${c.name}`, State: { Status: 'running', Running: true, Pid: c.pid } }));
  });
  await new Promise<void>((r) => server.listen(socket, r));
  return { socket, requests, close: () => new Promise<void>((r) => server.close(() => { fs.rmSync(dir, { recursive: true, force: true }); r(); })) };
}

const ID = 'f00dfeedbeef' + '0'.repeat(52);

test('the container list comes from the Docker API over the unix socket', async () => {
  const fake = await fakeDocker([{ id: ID, name: 'web', image: 'nginx:1.25', pid: 4242 }]);
  try {
    const r = await listDockerContainers(fake.socket);
    assert.equal(r.problem, null);
    assert.deepEqual(r.containers, [{ id: ID, name: 'web', image: 'nginx:1.25', pid: 4242 }]);
    assert.deepEqual(fake.requests, ['GET /containers/json', `GET /containers/${ID}/json`]);
  } finally { await fake.close(); }
});

test('no socket: no containers and no problem; a failing Docker: a problem, never a throw', async () => {
  assert.deepEqual(await listDockerContainers('/nonexistent/docker.sock'), { containers: [], problem: null });
  const fake = await fakeDocker([], { status: 500 });
  try {
    const r = await listDockerContainers(fake.socket);
    assert.deepEqual(r.containers, []);
    assert.match(r.problem ?? '', /docker: \/containers\/json: HTTP 500/);
  } finally { await fake.close(); }
});

test('a veth is attributed to the container Docker names for the process behind it', { skip: isRoot() ? false : 'needs root: builds network namespaces and runs tcpdump' }, async () => {
  const host = await buildMiniHost('fttcapd-');
  const fake = await fakeDocker([
    { id: ID, name: 'web', image: 'seqas/app:latest', pid: host.server.pid! },
    { id: 'abc' + '1'.repeat(61), name: 'other', image: 'redis', pid: 1 },
  ]);
  try {
    const cap = await startCapture({ netns: host.ec2, filter: 'port 80', dockerSocket: fake.socket });
    await cap.stop();
    const veth = cap.veths.find((v) => v.veth === HOST.veth);
    assert.deepEqual(veth?.container, { id: ID, name: 'web', image: 'seqas/app:latest' });
  } finally {
    await fake.close();
    host.destroy();
  }
  assert.deepEqual(leftovers('fttcapd-'), []);
});
