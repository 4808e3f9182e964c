/**
 * Host facts in the lab's EC2 host (root): a raw fault injected by command between start and
 * stop is found in the facts — an iptables DROP in FORWARD (counted, hook forward), a
 * blackhole route in the container (its lookup says so and names the route), a native nft
 * `counter drop` in a table of its own — and the container namespace behind veth3f2a1b9 is
 * found with its address and listener. Each injected rule or route is undone in a finally;
 * the lab is taken down only if this file built it. Start/stop times are reported as
 * diagnostics (benchmarks, not assertions).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labExec, nsName, LAB, CONTAINER_VETH } from '../../src/lab/index.js';
import { useLab } from '../helpers/lab.js';
import { createHostFacts, type HostFacts } from '../../src/host/index.js';
import { ROOT_SKIP } from '../lab/helpers.js';

useLab();

/** One connection from ALB node a to the instance's port 80 (DNAT'ed to the container): short, it may be dropped. */
async function requestFromAlb(): Promise<void> {
  await labExec('alb-a', ['curl', '-s', '-o', '/dev/null', '-m', '1', `http://${LAB.instance.ens5}/`], { timeoutMs: 5000 });
}

async function must(node: 'ec2' | 'container', argv: string[]): Promise<void> {
  const r = await labExec(node, argv);
  assert.equal(r.code, 0, `${argv.join(' ')} in ${nsName(node)}: ${r.stderr}`);
}

function timed<T>(f: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  return f().then((value) => ({ value, ms: performance.now() - t0 }));
}

test('an iptables DROP in FORWARD and a blackhole route in the container are read back as facts', { skip: ROOT_SKIP }, async (t) => {
  const DROP = ['-i', 'docker0', '-o', 'ens5', '-j', 'DROP'];
  const facts = createHostFacts({ netns: nsName('ec2') });
  const started = await timed(() => facts.start());
  const container = facts.namespaces().find((n) => n.veth === CONTAINER_VETH);
  assert.ok(container, `no container namespace: ${JSON.stringify(facts.namespaces())}`);
  assert.equal(container.label, `${nsName('container')} (${CONTAINER_VETH})`);
  assert.deepEqual(facts.namespaces().map((n) => n.role), ['host', 'container']); // ens5 (the uplink) is not a container

  let result: HostFacts;
  let stopMs: number;
  try {
    await must('ec2', ['iptables', '-w', '-I', 'FORWARD', ...DROP]);
    await requestFromAlb(); // the container's SYN-ACK leaves by docker0 → ens5: dropped
    await must('container', ['ip', 'route', 'add', 'blackhole', LAB.albA.vpc]);
    const stopped = await timed(() => facts.stop([
      { namespace: 'host', to: LAB.albA.vpc, from: LAB.container.address, iif: 'docker0' },
      { namespace: container.label, to: LAB.albA.vpc },
    ]));
    result = stopped.value;
    stopMs = stopped.ms;
  } finally {
    await labExec('ec2', ['iptables', '-w', '-D', 'FORWARD', ...DROP]);
    await labExec('container', ['ip', 'route', 'del', 'blackhole', LAB.albA.vpc]);
  }
  t.diagnostic(`start ${started.ms.toFixed(0)} ms, stop ${stopMs.toFixed(0)} ms (host + 1 container)`);
  assert.deepEqual(result.problems, []);

  const [host, ctr] = result.namespaces;
  const drop = host.netfilter.find((f) => f.source === 'iptables' && f.text === '-A FORWARD -i docker0 -o ens5 -j DROP');
  assert.ok(drop, 'the DROP rule is listed');
  assert.ok((drop.packetsDelta ?? 0) >= 1, `packetsDelta ${drop.packetsDelta}`);
  assert.deepEqual([drop.verdict, drop.hooks, drop.match.inInterface, drop.match.outInterface], ['drop', ['forward'], 'docker0', 'ens5']);
  assert.deepEqual(host.routes.map((r) => [r.result, r.dev]), [['unicast', 'ens5']]);
  assert.ok(host.dnat.some((d) => d.toAddress === LAB.container.address && d.ports === '80' && d.toPorts === String(LAB.container.port)));
  assert.equal(host.sysctls['net.ipv4.ip_forward'], '1');
  assert.equal(host.netfilter.filter((f) => f.source === 'nft' && f.family === 'ip' && (f.table === 'filter' || f.table === 'nat')).length, 0, 'iptables-nft tables are not listed twice');

  assert.equal(ctr.ns.label, container.label);
  assert.ok(ctr.links.some((l) => l.name === 'eth0' && l.addresses.includes(`${LAB.container.address}/16`)), JSON.stringify(ctr.links));
  assert.deepEqual(ctr.routes.map((r) => [r.to, r.result, r.matchedRoute]), [[LAB.albA.vpc, 'blackhole', `blackhole ${LAB.albA.vpc}`]]);
  assert.ok(ctr.listeners.some((l) => l.port === LAB.container.port), JSON.stringify(ctr.listeners));
});

test('a native nft rule with counter drop in a table of its own is listed with its rise', { skip: ROOT_SKIP }, async (t) => {
  const TABLE = 'ftt_host';
  const facts = createHostFacts({ netns: nsName('ec2'), containers: false });
  const started = await timed(() => facts.start());
  let result: HostFacts;
  try {
    await must('ec2', ['nft', `add table ip ${TABLE}; add chain ip ${TABLE} check { type filter hook forward priority -10; policy accept; }; add rule ip ${TABLE} check oifname "ens5" tcp sport ${LAB.container.port} counter drop`]);
    await requestFromAlb();
    result = await facts.stop([]);
  } finally {
    await labExec('ec2', ['nft', 'delete', 'table', 'ip', TABLE]);
  }
  t.diagnostic(`start ${started.ms.toFixed(0)} ms (host only)`);
  assert.deepEqual(result.problems, []);
  assert.equal(result.namespaces.length, 1);
  const rule = result.namespaces[0].netfilter.find((f) => f.source === 'nft' && f.table === TABLE && f.kind === 'rule');
  assert.ok(rule, 'the nft rule is listed');
  assert.equal(rule.text, `oifname "ens5" tcp sport ${LAB.container.port} counter drop`);
  assert.ok((rule.packetsDelta ?? 0) >= 1, `packetsDelta ${rule.packetsDelta}`);
  assert.deepEqual([rule.family, rule.chain, rule.verdict, rule.hooks, rule.match.outInterface, rule.match.sourcePorts], ['ip', 'check', 'drop', ['forward'], 'ens5', String(LAB.container.port)]);
  const policy = result.namespaces[0].netfilter.find((f) => f.table === TABLE && f.kind === 'policy');
  assert.deepEqual([policy?.text, policy?.packets], ['type filter hook forward priority -10; policy accept;', null]);
});
