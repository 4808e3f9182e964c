/**
 * Regression: `flowtrace capture` as a non-root user said "grant the capability (setcap
 * cap_net_raw,cap_net_admin+ep $(which node))" — but tcpdump is the process that captures, and
 * setcap on node does not help it. Checked by hand: `setcap … +eip` on a copy of tcpdump and
 * `setpriv --reuid=65534 … flowtrace capture -i lo --for 1s` captures. Now the hint names
 * tcpdump (and, in a namespace, root: `ip netns exec` needs it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { classifyTcpdumpFailure } from '../../src/capture/live/index.js';
import { selfCliArgv } from '../../src/self.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const DENIED = "tcpdump: any: You don't have permission to perform this capture on that device\n(socket: Operation not permitted)\n";
const spec = { interface: 'any', filter: '', snaplenBytes: 1600, bufferKiB: 4096, netns: null };

test('the privilege hint puts the capability on tcpdump, or asks for root in a namespace', () => {
  const plain = classifyTcpdumpFailure(DENIED, spec);
  assert.equal(plain.code, 'PRIVILEGE');
  assert.match(plain.hint, /setcap cap_net_raw,cap_net_admin\+eip \$\(command -v tcpdump\)/);
  assert.doesNotMatch(plain.hint, /node/);
  const inNetns = classifyTcpdumpFailure(DENIED, { ...spec, netns: 'ft-ec2' });
  assert.match(inNetns.hint, /run as root/);
  assert.doesNotMatch(inNetns.hint, /setcap/);
});

const isRoot = process.getuid?.() === 0;
const setprivPresent = spawnSync('setpriv', ['--version']).status === 0;

test('as an unprivileged user, the CLI says it in one line with that hint (exit 4)', { skip: isRoot && setprivPresent ? false : 'needs root to drop to nobody with setpriv' }, () => {
  const [node, ...rest] = selfCliArgv();
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', node, ...rest, 'capture', '-i', 'lo', '--for', '1s'], { encoding: 'utf8', cwd: REPO });
  assert.equal(r.status, 4, r.stderr);
  assert.equal(r.stderr, 'error[PRIVILEGE]: capturing on lo needs privileges flowtrace does not have\nhint: run as root (sudo flowtrace capture …), or let tcpdump capture without root: setcap cap_net_raw,cap_net_admin+eip $(command -v tcpdump)\n');
});
