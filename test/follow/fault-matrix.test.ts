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
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labUp, labDown, injectFault, healFault, LAB_FAULTS } from '../../src/lab/index.js';
import { FOLLOW_EXIT } from '../../src/errors.js';
import type { LayerId } from '../../src/follow/index.js';
import { followInClient, isRoot, verdictLine } from './lab-follow.js';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = path.join(root, 'artifacts');

/**
 * What the verdict must say for each lab fault: the first failing layer, the cause id (named
 * after what was observed, not after the fault), the direction that broke, and the evidence
 * the cause must name. `partialNode`: only that load-balancer node fails.
 */
interface Expected { layer: LayerId | null; cause: string | null; direction?: 'request' | 'reply' | null; text: RegExp; partialNode?: string; url?: string }
const EXPECTED: Record<string, Expected> = {
  'dns-nxdomain': { layer: 'dns', cause: 'dns-nxdomain', direction: 'request', text: /NXDOMAIN/ },
  'dns-down': { layer: 'dns', cause: 'dns-server-down', direction: 'request', text: /not answering/ },
  'dns-drop': { layer: 'dns', cause: 'dns-timeout', direction: 'request', text: /no answer/ },
  'route-blackhole': { layer: 'route', cause: 'route-blackhole', direction: 'request', text: /stops after hop 2/ },
  'route-reject': { layer: 'route', cause: 'route-reject', direction: 'request', text: /!X/ },
  // !H from the trace, or — when the routers rate-limited their unreachables away — the
  // client's immediate "no route to host" (the verdict's fallback for the same cause).
  'no-route': { layer: 'route', cause: 'no-route', direction: 'request', text: /no route .*(!H|!N)|"no route to host"/ },
  'icmp-ratelimit': { layer: null, cause: null, text: /answered 200/ },
  'sg-block': { layer: 'instance', cause: 'not-at-instance', direction: 'request', text: /nothing of the request reached the instance/ },
  'host-firewall': { layer: 'container', cause: 'dropped-by-rule', direction: 'request', text: /reached ens5 \(in\) but was never seen on docker0.*DROP rule `-A DOCKER-USER -i ens5 .*counted \d+/ },
  'dnat-missing': { layer: 'container', cause: 'not-listening', direction: 'request', text: /answered with RST.*no DNAT rule for port 80.*listens on 0\.0\.0\.0:8080/ },
  'app-down': { layer: 'application', cause: 'not-listening', direction: 'request', text: /veth\w+ \(out\) and was answered with RST.*nothing listens on port 8080 in ft-container/ },
  'veth-down': { layer: 'container', cause: 'link-down', direction: 'request', text: /veth\w+ is down/ },
  'app-slow': { layer: 'application', cause: 'no-response', direction: 'request', text: /no response came .*before the client closed/ },
  'app-500': { layer: 'application', cause: 'error-status', direction: null, text: /application answered 500/ },
  'target-deregistered': { layer: 'loadBalancer', cause: 'lb-no-target', direction: 'request', text: /503/ },
};

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
  assert.deepEqual(healthy.result!.server!.interfaces.filter((i) => i.packets > 0).map((i) => `${i.iface} ${i.role}`), ['ens5 uplink', 'docker0 bridge', 'veth3f2a1b9 container']);
  assert.equal(healthy.result!.server!.rolesFrom, 'links', 'roles from the host\'s links (host facts read)');
  writeFileSync(path.join(artifacts, 'follow-live-healthy.json'), JSON.stringify(healthy.result, null, 2));

  const lines: string[] = [];
  let correct = 0;
  for (const f of faults) {
    const want = EXPECTED[f]!;
    await healFault();
    await injectFault(f);
    const run = await followInClient(want.url);
    await healFault(f);
    const v = run.result?.verdict;
    const text = v ? `${v.cause ?? ''} ${v.headline}` : '';
    // The process exit code is the documented one of the failing layer (docs/follow.md).
    const wantCode = want.layer ? FOLLOW_EXIT[want.layer] : 0;
    const partialOk = want.partialNode ? v?.partial?.failing.length === 1 && v.partial.failing[0]!.node === want.partialNode : v?.partial === null;
    const ok = !!v && v.firstFailing === want.layer && v.causeId === want.cause && (want.direction === undefined || v.direction === want.direction) && want.text.test(text) && partialOk && run.code === wantCode;
    if (ok) correct++;
    lines.push(`${ok ? 'ok  ' : 'FAIL'} ${verdictLine(f.padEnd(20), run)}${ok ? '' : `\n      want ${want.layer} / ${want.cause} / ${want.direction}${want.partialNode ? ` (partial ${want.partialNode})` : ''}, exit ${wantCode}, text ${want.text}`}`);
    if (run.result && f === 'dnat-missing') writeFileSync(path.join(artifacts, 'follow-live-dnat-missing.json'), JSON.stringify(run.result, null, 2));
  }
  const summary = `${correct}/${faults.length} faults diagnosed correctly`;
  console.log(`${lines.join('\n')}\n${summary}`);
  assert.equal(correct, faults.length, `${summary}\n${lines.filter((l) => l.startsWith('FAIL')).join('\n')}`);

  const again = await followInClient();
  assert.equal(again.code, 0, 'healed lab answers again');
});
