/**
 * The fault matrix (issue 7): `flowtrace follow` run from the lab's client, with an agent on
 * each of the load balancer's two targets, its access log and its target health, under every lab fault; the verdict's first failing layer and cause must be
 * the right ones. One lab for the whole matrix; each fault is healed before the next.
 *
 * Each run reads the lab's AWS configuration as it is under the fault
 * (`follow --aws-config "$(flowtrace lab aws-config)"`, issue 18): the same run also checks that
 * a fault that is a configuration change is named by its rule, and any other fault says
 * "configuration allows it; …" (expected.ts LAB_FAULT_CONFIG) — one pass, two readings.
 *
 * Each fault is also walked over ssh (issue 14): `--server ssh://lab-ec2-a --server ssh://lab-ec2-b`,
 * agentless (tcpdump and host facts through the bastion, as user ftlab), right after the walk
 * with the agents, under the same fault; its verdict and journeys must read as the agents'
 * (test/remote/reading.ts, whichever target served).
 *
 * Needs root (network namespaces); skips otherwise, saying so. Also saves the healthy and the
 * dnat-missing results to artifacts/ (the report test draws them when present).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dropAlbIdleConnections, injectFault, healFault, LAB, LAB_FAULTS, LAB_SSH, nsName } from '../../src/lab/index.js';
import { reading } from '../remote/reading.js';
import type { FollowResult, ServerEvidence, TargetOfRequest } from '../../src/follow/index.js';
import { followInClient, labAwsConfig, verdictLine, type FollowRun } from './lab-follow.js';
import { isRoot, useLab } from '../helpers/lab.js';
import { LAB_FAULT_CONFIG, LAB_FAULT_VERDICTS as EXPECTED, configMatches, saveRecorded, verdictMatches } from './expected.js';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = path.join(root, 'artifacts');

useLab();

/**
 * Faults that cut ssh to the instances too, as they would on a real one: a full conntrack table
 * drops every new connection. Over ssh the server side is unreachable and said so.
 */
const CUTS_SSH = ['conntrack-full'];

/** Faults a walk uses up (the idle connections keepalive-race leaves to each ALB node): injected again for the walk over ssh. */
const REARMED = ['keepalive-race'];

/** The lab reading (test/remote/reading.ts) whichever target served: each target's veth, container namespace and address by their role. */
function sameWhicheverTarget(r: FollowResult): string {
  let text = JSON.stringify(reading(r, 'lab'));
  for (const t of [...LAB.targets].sort((a, b) => nsName(b.container).length - nsName(a.container).length)) {
    text = text.split(nsName(t.container)).join('<container>').split(t.veth).join('<veth>').split(`${t.ens5}:`).join('<target>:');
  }
  return text;
}

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

  await dropAlbIdleConnections();
  const healthy = await followInClient(undefined, ['--aws-config', labAwsConfig()]);
  assert.ok(healthy.result, `healthy follow printed no JSON: ${healthy.stderr}`);
  assert.equal(healthy.code, 0, `healthy lab: ${healthy.result!.verdict.headline}`);
  assert.equal(configMatches({ agreement: 'both-pass', text: /answered 200/ }, healthy.result), null, 'the healthy lab\'s configuration allows every hop');
  assert.equal(healthy.result!.server?.matchedBy, 'trace-id');
  assert.equal(healthy.result!.servers.length, 2, 'a capture on each target');
  const served = healthy.result!.server!;
  const veth = LAB.targets.find((t) => t.ens5 === served.targetAddress)!.veth;
  assert.deepEqual(served.interfaces.filter((i) => i.packets > 0).map((i) => `${i.iface} ${i.role}`), ['ens5 uplink', 'docker0 bridge', `${veth} container`]);
  assert.equal(served.rolesFrom, 'links', 'roles from the host\'s links (host facts read)');
  // Each request: its access-log line, the target that got it, read there by its trace id.
  const result: FollowResult = healthy.result!;
  for (const q of result.requests) {
    const lb: TargetOfRequest = result.loadBalancer.requests.find((r) => r.traceRoot === q.traceId)!;
    assert.equal(lb.from, 'access-log');
    const onTarget: ServerEvidence = result.servers.find((x) => `${x.targetAddress}:80` === lb.target)!;
    assert.equal(onTarget.requests.find((r) => r.traceRoot === q.traceId)?.matchedBy, 'trace-id', `${q.node}'s request read on ${lb.target}`);
  }
  writeFileSync(path.join(artifacts, 'follow-live-healthy.json'), JSON.stringify(healthy.result, null, 2));
  saveRecorded('healthy', healthy.result);

  // The healthy lab over ssh too: agentless on both targets, the same reading.
  await dropAlbIdleConnections();
  const healthySsh = await followInClient(undefined, ['--aws-config', labAwsConfig()], LAB_SSH.targets);
  const sshDiffers: string[] = [];
  const compareSsh = (name: string, netns: FollowRun, ssh: FollowRun): void => {
    if (!ssh.result || !netns.result) { sshDiffers.push(`${name}: no result (${ssh.stderr.trim().split('\n').pop()})`); return; }
    const notAgentless = ssh.result.servers.filter((x) => !/agentless: tcpdump and host facts over ssh/.test(x.filter ?? ''));
    if (CUTS_SSH.includes(name)) {
      // As on a real instance: ssh is a new connection like any other; the rows it would have read say "not checked".
      const rows = Object.fromEntries(ssh.result.verdict.rows.map((r) => [r.layer, r.status]));
      if (!ssh.result.servers.every((x) => x.status === 'error' && /^SSH_/.test(x.error ?? '')) || rows.container !== 'not-checked') {
        sshDiffers.push(`${name}: ssh to the instance should fail and the container row say not-checked: ${JSON.stringify(ssh.result.servers.map((x) => [x.status, x.error]))} ${JSON.stringify(rows)}`);
      }
      return;
    }
    if (notAgentless.length > 0 || ssh.result.servers.some((x) => x.status !== 'ok')) {
      sshDiffers.push(`${name}: the ssh server sides: ${JSON.stringify(ssh.result.servers.map((x) => [x.target, x.status, x.error ?? x.filter]))}`);
      return;
    }
    const problems = ssh.result.servers.flatMap((x) => x.host?.problems ?? []);
    if (problems.length > 0) sshDiffers.push(`${name}: every documented sudoers line should do its part: ${problems.join('; ')}`);
    // Each request read on the target the access log says got it, by its trace id; the other says where it went.
    for (const q of ssh.result.requests) {
      const went = ssh.result.loadBalancer.requests.find((x) => x.traceRoot === q.traceId);
      const there = went && ssh.result.servers.find((x) => `${x.targetAddress}:80` === went.target);
      if (!there) continue; // not served (a failure before any target): the journey comparison covers it
      if (there.requests.find((x) => x.traceRoot === q.traceId)?.matchedBy !== 'trace-id' && name === 'healthy') sshDiffers.push(`${name}: ${q.node}'s request not read by its trace id on ${there.target}`);
      for (const other of ssh.result.servers.filter((x) => x !== there)) {
        const e = other.requests.find((x) => x.traceRoot === q.traceId)?.elsewhere;
        // Found there: its --server; found nowhere: the access log's target address.
        if ((name === 'healthy' || e !== undefined) && e !== there.target && e !== went.target) sshDiffers.push(`${name}: ${other.target} says ${q.node}'s request went to ${e}, the access log ${there.target}`);
      }
    }
    const a = sameWhicheverTarget(netns.result);
    const b = sameWhicheverTarget(ssh.result);
    if (a !== b) sshDiffers.push(`${name}:\n  ssh:   ${b}\n  netns: ${a}`);
  };
  compareSsh('healthy', healthy, healthySsh);

  const lines: string[] = [];
  let correct = 0;
  // FT_MATRIX_ONLY=a,b: walk only these faults (while working on them; CI walks them all).
  const walked = process.env.FT_MATRIX_ONLY ? faults.filter((f) => process.env.FT_MATRIX_ONLY!.split(',').includes(f)) : faults;
  for (const f of walked) {
    const want = EXPECTED[f]!;
    // Each walk's requests on new connections (keepalive-race makes its own idle ones, which a
    // walk uses up: it is injected again for the second walk).
    await healFault();
    await dropAlbIdleConnections();
    await injectFault(f);
    const run = await followInClient(want.url, ['--aws-config', labAwsConfig()]);
    const problems = [verdictMatches(want, run.result, run.code), configMatches(LAB_FAULT_CONFIG[f]!, run.result)].filter((p) => p !== null);
    const problem = problems.length > 0 ? problems.join('; ') : null;
    if (problem === null) correct++;
    saveRecorded(f, run.result);
    lines.push(`${problem === null ? 'ok  ' : 'FAIL'} ${verdictLine(f.padEnd(20), run)}${problem === null ? '' : `\n      ${problem}`}`);
    if (run.result && f === 'dnat-missing') writeFileSync(path.join(artifacts, 'follow-live-dnat-missing.json'), JSON.stringify(run.result, null, 2));
    await dropAlbIdleConnections();
    if (REARMED.includes(f)) { await healFault(f); await injectFault(f); }
    compareSsh(f, run, await followInClient(want.url, ['--aws-config', labAwsConfig()], LAB_SSH.targets));
    await healFault(f);
  }
  const summary = `${correct}/${walked.length} faults diagnosed correctly`;
  console.log(`${lines.join('\n')}\n${summary}`);
  assert.equal(correct, walked.length, `${summary}\n${lines.filter((l) => l.startsWith('FAIL')).join('\n')}`);
  assert.deepEqual(sshDiffers, [], 'over ssh (agentless, both targets) the same verdict and journeys as with the agents');

  const again = await followInClient();
  assert.equal(again.code, 0, 'healed lab answers again');
});
