/**
 * The fault matrix (issue 7): `flowtrace follow` run from the lab's client, with the agent in
 * the lab's ec2, under every lab fault; the verdict's first failing layer and cause must be
 * the right ones. One lab for the whole matrix; each fault is healed before the next.
 *
 * Needs root (network namespaces); skips otherwise, saying so. Also saves the healthy and the
 * dnat-missing results to artifacts/ (the report test draws them when present).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labUp, labDown, injectFault, healFault, LAB, LAB_FAULTS, nsName } from '../../src/lab/index.js';
import { selfCliArgv } from '../../src/self.js';
import { FOLLOW_EXIT } from '../../src/errors.js';
import type { FollowResult, LayerId } from '../../src/follow/index.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = path.join(root, 'artifacts');

/** What the verdict must say for each lab fault: the first failing layer and the cause id. */
const EXPECTED: Record<string, { layer: LayerId | null; cause: string | null; text: RegExp }> = {
  'dns-nxdomain': { layer: 'dns', cause: 'dns-nxdomain', text: /NXDOMAIN/ },
  'dns-down': { layer: 'dns', cause: 'dns-server-down', text: /not answering/ },
  'dns-drop': { layer: 'dns', cause: 'dns-timeout', text: /no answer/ },
  'route-blackhole': { layer: 'route', cause: 'route-blackhole', text: /stops after hop 2/ },
  'route-reject': { layer: 'route', cause: 'route-reject', text: /!X/ },
  // !H from the trace, or — when the routers rate-limited their unreachables away — the
  // client's immediate "no route to host" (the verdict's fallback for the same cause).
  'no-route': { layer: 'route', cause: 'no-route', text: /no route .*(!H|!N)|"no route to host"/ },
  'icmp-ratelimit': { layer: null, cause: null, text: /answered 200/ },
  'sg-block': { layer: 'instance', cause: 'sg-block', text: /never reached ens5: the security group/ },
  'host-firewall': { layer: 'container', cause: 'host-firewall', text: /reached ens5 but never docker0.*host firewall/ },
  'dnat-missing': { layer: 'container', cause: 'dnat-missing', text: /reached ens5 but never docker0.*DNAT/ },
  'app-down': { layer: 'application', cause: 'app-not-listening', text: /container reset the connection/ },
  'veth-down': { layer: 'container', cause: 'veth-down', text: /never the container's veth: veth\w+ is down/ },
  'app-slow': { layer: 'application', cause: 'app-slow', text: /did not answer before the load balancer gave up/ },
  'app-500': { layer: 'application', cause: 'app-error-status', text: /answered 500/ },
  'target-deregistered': { layer: 'loadBalancer', cause: 'lb-no-target', text: /503/ },
};

function followInClient(url = `http://${LAB.domain}/`): Promise<{ code: number | null; result: FollowResult | null; stderr: string }> {
  const argv = ['ip', 'netns', 'exec', nsName('client'), ...selfCliArgv(), 'follow', url, '--server', 'netns:ec2', '--json', '--timeout', '5',
    '--lb-name', `${LAB.albA.public}=alb-a`, '--lb-name', `${LAB.albB.public}=alb-b`];
  return new Promise((resolve) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (b: Buffer) => out.push(b));
    c.stderr.on('data', (b: Buffer) => err.push(b));
    c.on('close', (code) => {
      let result: FollowResult | null = null;
      try { result = JSON.parse(Buffer.concat(out).toString('utf8')) as FollowResult; } catch { /* reported below */ }
      resolve({ code, result, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

let builtByUs = false;

before(async () => {
  if (!isRoot) return;
  const s = await labUp();
  builtByUs = !s.alreadyUp;
  await healFault();
});

after(async () => {
  if (!isRoot) return;
  await healFault().catch(() => {});
  if (builtByUs) await labDown();
});

test('every lab fault is diagnosed: first failing layer and cause', { skip: isRoot ? false : 'needs root (network namespaces): run as root, as CI does' }, async () => {
  mkdirSync(artifacts, { recursive: true });
  const faults = Object.keys(LAB_FAULTS);
  for (const f of faults) {
    assert.ok(EXPECTED[f], `the lab has a fault '${f}' this matrix has no expectation for: add it`);
    // The lab says which layer each fault breaks; the verdict must blame that one (a fault
    // that leaves the request working, like icmp-ratelimit, blames none).
    const declared = (LAB_FAULTS as Record<string, { layer: string }>)[f]!.layer;
    if (EXPECTED[f]!.layer !== null) assert.equal(EXPECTED[f]!.layer, declared, `${f}: the lab declares layer ${declared}`);
  }

  const healthy = await followInClient();
  assert.ok(healthy.result, `healthy follow printed no JSON: ${healthy.stderr}`);
  assert.equal(healthy.code, 0, `healthy lab: ${healthy.result!.verdict.headline}`);
  assert.equal(healthy.result!.server?.matchedBy, 'trace-id');
  assert.deepEqual(healthy.result!.server!.interfaces.filter((i) => i.packets > 0).map((i) => i.role), ['ens5', 'docker0', 'veth']);
  writeFileSync(path.join(artifacts, 'follow-live-healthy.json'), JSON.stringify(healthy.result, null, 2));

  const lines: string[] = [];
  let correct = 0;
  for (const f of faults) {
    const want = EXPECTED[f]!;
    await healFault();
    await injectFault(f);
    const run = await followInClient();
    await healFault(f);
    const v = run.result?.verdict;
    const text = v ? `${v.cause ?? ''} ${v.headline}` : '';
    // The process exit code is the documented one of the failing layer (docs/follow.md).
    const wantCode = want.layer ? FOLLOW_EXIT[want.layer] : 0;
    const ok = !!v && v.firstFailing === want.layer && v.causeId === want.cause && want.text.test(text) && run.code === wantCode;
    if (ok) correct++;
    lines.push(`${ok ? 'ok  ' : 'FAIL'} ${f.padEnd(20)} → ${v ? `${v.firstFailing ?? 'none'} / ${v.causeId ?? 'healthy'}: ${v.cause ?? v.headline} (exit ${run.code}${run.code === wantCode ? '' : `, want ${wantCode}`})` : `no result (${run.stderr.trim().split('\n').pop()})`}`);
    if (run.result && f === 'dnat-missing') writeFileSync(path.join(artifacts, 'follow-live-dnat-missing.json'), JSON.stringify(run.result, null, 2));
  }
  const summary = `${correct}/${faults.length} faults diagnosed correctly`;
  console.log(`${lines.join('\n')}\n${summary}`);
  assert.equal(correct, faults.length, `${summary}\n${lines.filter((l) => l.startsWith('FAIL')).join('\n')}`);

  const again = await followInClient();
  assert.equal(again.code, 0, 'healed lab answers again');
});
