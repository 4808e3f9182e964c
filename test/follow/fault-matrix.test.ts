/**
 * The fault matrix (issue 7): `flowtrace follow` run from the lab's client, with the agent in
 * the lab's ec2, under every lab fault; the verdict's first failing layer and cause must be
 * the right ones. One lab for the whole matrix; each fault is healed before the next.
 *
 * Each run reads the lab's AWS configuration as it is under the fault
 * (`follow --aws-config "$(flowtrace lab aws-config)"`, issue 18): the same run also checks that
 * a fault that is a configuration change is named by its rule, and any other fault says
 * "configuration allows it; …" (expected.ts LAB_FAULT_CONFIG) — one pass, two readings.
 *
 * Needs root (network namespaces); skips otherwise, saying so. Also saves the healthy and the
 * dnat-missing results to artifacts/ (the report test draws them when present).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { injectFault, healFault, LAB_FAULTS } from '../../src/lab/index.js';
import { followInClient, isRoot, labAwsConfig, useLab, verdictLine } from './lab-follow.js';
import { LAB_FAULT_CONFIG, LAB_FAULT_VERDICTS as EXPECTED, configMatches, saveRecorded, verdictMatches } from './expected.js';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = path.join(root, 'artifacts');

useLab();

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

  const healthy = await followInClient(undefined, ['--aws-config', labAwsConfig()]);
  assert.ok(healthy.result, `healthy follow printed no JSON: ${healthy.stderr}`);
  assert.equal(healthy.code, 0, `healthy lab: ${healthy.result!.verdict.headline}`);
  assert.equal(configMatches({ agreement: 'both-pass', text: /answered 200/ }, healthy.result), null, 'the healthy lab\'s configuration allows every hop');
  assert.equal(healthy.result!.server?.matchedBy, 'trace-id');
  assert.deepEqual(healthy.result!.server!.interfaces.filter((i) => i.packets > 0).map((i) => `${i.iface} ${i.role}`), ['ens5 uplink', 'docker0 bridge', 'veth3f2a1b9 container']);
  assert.equal(healthy.result!.server!.rolesFrom, 'links', 'roles from the host\'s links (host facts read)');
  writeFileSync(path.join(artifacts, 'follow-live-healthy.json'), JSON.stringify(healthy.result, null, 2));
  saveRecorded('healthy', healthy.result);

  const lines: string[] = [];
  let correct = 0;
  for (const f of faults) {
    const want = EXPECTED[f]!;
    await healFault();
    await injectFault(f);
    const run = await followInClient(want.url, ['--aws-config', labAwsConfig()]);
    await healFault(f);
    const problems = [verdictMatches(want, run.result, run.code), configMatches(LAB_FAULT_CONFIG[f]!, run.result)].filter((p) => p !== null);
    const problem = problems.length > 0 ? problems.join('; ') : null;
    if (problem === null) correct++;
    saveRecorded(f, run.result);
    lines.push(`${problem === null ? 'ok  ' : 'FAIL'} ${verdictLine(f.padEnd(20), run)}${problem === null ? '' : `\n      ${problem}`}`);
    if (run.result && f === 'dnat-missing') writeFileSync(path.join(artifacts, 'follow-live-dnat-missing.json'), JSON.stringify(run.result, null, 2));
  }
  const summary = `${correct}/${faults.length} faults diagnosed correctly`;
  console.log(`${lines.join('\n')}\n${summary}`);
  assert.equal(correct, faults.length, `${summary}\n${lines.filter((l) => l.startsWith('FAIL')).join('\n')}`);

  const again = await followInClient();
  assert.equal(again.code, 0, 'healed lab answers again');
});
