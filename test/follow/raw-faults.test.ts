/**
 * Faults the lab's fault list does not know, injected the way real systems break — one raw
 * `iptables`, `nft`, `ip` or `kill` command — and the verdict `follow` must give: the layer,
 * the direction that broke, the cause id, and the evidence named in the cause (the rule's
 * text, the route, the link…). The verdict reads evidence, so none of these was written for.
 *
 * Needs root (network namespaces): one lab for all, each fault undone right after its run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dropAlbIdleConnections, LAB } from '../../src/lab/index.js';
import { followInClient, verdictLine } from './lab-follow.js';
import { isRoot, useLab } from '../helpers/lab.js';
import { saveRecorded, verdictMatches } from './expected.js';
import { RAW_FAULTS } from './raw-fault-list.js';

/** After a heal: the lab answers through both nodes again (a bridge back up re-learns its neighbours…). */
async function settle(): Promise<void> {
  for (let i = 0; i < 25; i++) {
    const a = spawnSync('ip', ['netns', 'exec', 'ft-client', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '2', '--resolve', `${LAB.domain}:80:${LAB.albA.public}`, `http://${LAB.domain}/`], { encoding: 'utf8' });
    const b = spawnSync('ip', ['netns', 'exec', 'ft-client', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '2', '--resolve', `${LAB.domain}:80:${LAB.albB.public}`, `http://${LAB.domain}/`], { encoding: 'utf8' });
    if (a.stdout === '200' && b.stdout === '200') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the lab did not answer 200 through both nodes after a heal');
}

useLab();

test('faults injected by raw commands, unknown to the lab: layer, direction, cause and its evidence', { skip: isRoot ? false : 'needs root (network namespaces): run as root, as CI does' }, async () => {
  const lines: string[] = [];
  let correct = 0;
  for (const f of RAW_FAULTS) {
    f.inject();
    // The load balancer's kept-alive connections from the run before would carry the next
    // requests past a change that only new connections meet (as after its idle timeout).
    await dropAlbIdleConnections();
    let run;
    try { run = await followInClient(); } finally { f.heal(); await settle(); }
    const problem = verdictMatches(f, run.result, run.code);
    if (problem === null) correct++;
    saveRecorded(`raw-${f.name}`, run.result);
    lines.push(`${problem === null ? 'ok  ' : 'FAIL'} ${verdictLine(f.what, run)}${problem === null ? '' : `\n      ${problem}`}`);
  }
  const again = await followInClient();
  const summary = `${correct}/${RAW_FAULTS.length} raw faults diagnosed correctly`;
  console.log(`${lines.join('\n')}\n${summary}`);
  assert.equal(correct, RAW_FAULTS.length, `${summary}\n${lines.filter((l) => l.startsWith('FAIL')).join('\n')}`);
  assert.equal(again.code, 0, `healed lab answers again: ${again.result?.verdict.headline ?? again.stderr}`);
});
