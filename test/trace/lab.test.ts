/**
 * `flowtrace trace` in the lab (issue 4's namespaces), run where a user would run it: inside
 * the client node, `ip netns exec ft-client flowtrace trace seqas.online …`. Probes go only
 * to the lab's addresses.
 *
 * The lab is one per machine, owned by one process at a time (its session). A lab this file
 * brought up is taken down in the after hook; one it found up is left up, without faults.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { LAB, labExec, labStatus, injectFault, healFault, spawnInLab } from '../../src/lab/index.js';
import { useLab } from '../helpers/lab.js';
import { selfCliArgv } from '../../src/self.js';
import type { AddressTrace, TraceResult } from '../../src/trace/index.js';

const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
const SKIP = IS_ROOT ? false : 'needs root: the lab creates network namespaces and the probes use raw sockets';


/** Runs the CLI in the client node, after checking that exactly the expected faults are on. */
async function traceFromClient(args: string[], faults: string[] = []): Promise<{ code: number; result: TraceResult | null; stderr: string }> {
  assert.deepEqual([...labStatus().faults].sort(), [...faults].sort(), 'the lab\'s faults');
  const r = await labExec('client', [...selfCliArgv(), 'trace', ...args, '--json'], { timeoutMs: 60_000 });
  let result: TraceResult | null = null;
  try { result = JSON.parse(r.stdout) as TraceResult; } catch { /* an error: stderr says why */ }
  return { code: r.code, result, stderr: r.stderr };
}

const ALBS = [LAB.albA.public, LAB.albB.public].sort();

function routersOf(t: AddressTrace, n: number): string[][] {
  return t.hops.slice(0, n).map((h) => h.responders.map((r) => r.address));
}

// labUp waits while another process owns the lab session (FT_LAB_WAIT_S), then makes this
// process the owner: nobody else changes the lab (faults) until it ends or takes it down.
useLab();

for (const [proto, port, reply] of [['tcp', '80', 'tcp-syn-ack'], ['udp', null, 'port-unreachable'], ['icmp', null, 'echo-reply']] as const) {
  test(`${proto}: both ALB addresses traced, the three routers at hops 1–3 and the ALB node at hop 4`, { skip: SKIP }, async () => {
    const { code, result, stderr } = await traceFromClient(['seqas.online', '--proto', proto, ...(port ? ['--port', port] : [])]);
    assert.equal(code, 0, stderr);
    assert.ok(result);
    assert.deepEqual([...result.addresses].sort(), ALBS);
    assert.equal(result.status, 'reached');
    for (const t of result.traces) {
      assert.equal(t.sourceAddress, LAB.client);
      assert.deepEqual(routersOf(t, 3), LAB.traceHops.map((a) => [a]));
      assert.equal(t.reachedAtTtl, 4);
      assert.equal(t.hops.length, 4);
      assert.deepEqual(t.hops[3].responders.map((r) => r.address), [t.address]);
      assert.equal(t.destinationReply, reply);
      assert.ok(t.hops.every((h) => h.lossPercent === 0), JSON.stringify(t.hops.map((h) => h.lossPercent)));
    }
  });
}

test('an unknown name in the lab\'s zone: UNKNOWN_HOST from the lab\'s resolver, exit 6; --json still prints a result', { skip: SKIP }, async () => {
  const { code, stderr, result } = await traceFromClient(['nope.seqas.online', '--proto', 'tcp']);
  assert.equal(code, 6);
  assert.match(stderr, /^error\[UNKNOWN_HOST\]: cannot resolve nope\.seqas\.online: no such name\nhint: /);
  assert.ok(result, 'a JSON result on stdout, as dns --json and http --json give');
  const { error, ...rest } = result as TraceResult & { error: { code: string; message: string; hint: string } };
  assert.deepEqual(rest, {
    schema: 'flowtrace.trace/1', host: 'nope.seqas.online', addresses: [], proto: 'tcp', port: 80, maxTtl: 30, rounds: 3, timeoutMs: 2000,
    status: 'failed', failureSource: 'resolver', destinationReached: false, traces: [],
  });
  assert.equal(error.code, 'UNKNOWN_HOST');
  assert.match(error.message, /^cannot resolve nope\.seqas\.online/);
  assert.match(error.hint, /flowtrace dns nope\.seqas\.online/);
});

test('route-blackhole: hops 1–2 answer, then stars to the end: "the path stops after hop 2"', { skip: SKIP }, async () => {
  await injectFault('route-blackhole');
  try {
    const { code, result, stderr } = await traceFromClient(['seqas.online', '--proto', 'tcp', '--port', '80', '--max-ttl', '8'], ['route-blackhole']);
    assert.equal(code, 6, stderr);
    assert.ok(result);
    assert.equal(result.status, 'stopped');
    assert.equal(result.failureSource, 'route');
    for (const t of result.traces) {
      assert.equal(t.status, 'stopped');
      assert.equal(t.destinationReached, false);
      assert.equal(t.lastAnsweringTtl, 2);
      assert.deepEqual(routersOf(t, 2), LAB.traceHops.slice(0, 2).map((a) => [a]));
      assert.ok(t.hops.slice(2).every((h) => h.received === 0 && h.sent > 0));
      assert.ok(t.explanation.some((e) => e.includes('the path stops after hop 2')), t.explanation.join('\n'));
    }
    // Ctrl-C in the middle of a trace: the partial trace is printed, exit 130.
    const child = spawnInLab('client', [...selfCliArgv(), 'trace', LAB.albA.public, '--rounds', '20'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await sleep(1500);
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.match(out, /interrupted: the trace is partial/);
    assert.match(out, /\n\s+2\s+10\.255\.1\.2\s/);
  } finally {
    await healFault('route-blackhole');
  }
});

test('route-reject: !X from the AWS edge router, the path ends there', { skip: SKIP }, async () => {
  await injectFault('route-reject');
  try {
    for (const proto of ['tcp', 'udp', 'icmp']) {
      const { code, result, stderr } = await traceFromClient(['seqas.online', '--proto', proto], ['route-reject']);
      assert.equal(code, 6, stderr);
      assert.ok(result);
      for (const t of result.traces) {
        assert.equal(t.status, 'unreachable', `${proto} ${t.address}`);
        assert.equal(t.failureSource, 'route');
        assert.ok(t.unreachable);
        assert.equal(t.unreachable.flag, '!X');
        assert.equal(t.unreachable.responder, LAB.routers.awsedge.toBackbone);
        // The edge still answers time-exceeded at hop 3 (TTL runs out before its FORWARD
        // filter), and rejects what it would forward: !X at hop 4.
        assert.deepEqual(routersOf(t, 3), LAB.traceHops.map((a) => [a]));
        assert.equal(t.unreachable.ttl, 4);
        assert.deepEqual(t.hops[3].flags, ['!X']);
        assert.ok(t.explanation.some((e) => /answered !X, .*prohibited.*the path ends there/.test(e)), t.explanation.join('\n'));
      }
    }
  } finally {
    await healFault('route-reject');
  }
});

test('icmp-ratelimit: routers drop some ICMP replies, the destination answers every probe; the loss is explained, not blamed on the path', { skip: SKIP }, async () => {
  await injectFault('icmp-ratelimit');
  try {
    const { code, result, stderr } = await traceFromClient(['seqas.online', '--proto', 'icmp', '--rounds', '20'], ['icmp-ratelimit']);
    assert.equal(code, 0, `${stderr}${JSON.stringify(result?.traces.map((t) => [t.status, t.explanation]))}`);
    assert.ok(result);
    let lossyRouterHops = 0;
    for (const t of result.traces) {
      assert.equal(t.status, 'reached');
      assert.equal(t.reachedAtTtl, 4);
      assert.equal(t.hops[3].lossPercent, 0);
      for (const h of t.hops.slice(0, 3)) {
        if ((h.lossPercent ?? 0) === 0) continue;
        lossyRouterHops++;
        assert.match(h.note ?? '', /rate-limits its ICMP replies|not answering traceroute \(filtered or rate-limited\), the path goes on/, `hop ${h.ttl}`);
      }
      assert.ok(!t.explanation.some((e) => /loss starts here/.test(e)), t.explanation.join('\n'));
    }
    assert.ok(lossyRouterHops > 0, 'the rate limit should have cost some router replies');
  } finally {
    await healFault('icmp-ratelimit');
  }
});
