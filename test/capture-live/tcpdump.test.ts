/**
 * tcpdump's stderr: the exit counters and the failures flowtrace explains. The texts are
 * tcpdump 4.99.3 / libpcap 1.10.3's own (copied from runs on this machine); the last tests
 * run the real tcpdump to check the same messages come out of a real failure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseTcpdumpStats, classifyTcpdumpFailure, tcpdumpArgv, startCapture, TCPDUMP_DEFAULTS } from '../../src/capture/live/index.js';
import { FlowtraceError } from '../../src/errors.js';

const spec = { interface: 'any', filter: 'port 80', snaplenBytes: 1600, bufferKiB: 4096, netns: null };
const isRoot = process.getuid?.() === 0;
const haveTcpdump = !spawnSync('tcpdump', ['--version']).error;

test('exit counters are parsed, also "dropped by interface" and singulars', () => {
  const s = parseTcpdumpStats('tcpdump: listening on any, link-type LINUX_SLL2 (Linux cooked v2), snapshot length 1600 bytes\n12 packets captured\n24 packets received by filter\n3 packets dropped by kernel\n1 packet dropped by interface\n');
  assert.deepEqual(s, { captured: 12, receivedByFilter: 24, droppedByKernel: 3, droppedByInterface: 1 });
  assert.equal(parseTcpdumpStats('tcpdump: listening on any\n'), null);
});

test('failures are classified: privilege, unknown interface, bad filter, missing tcpdump in a namespace', () => {
  const priv = classifyTcpdumpFailure("tcpdump: any: You don't have permission to perform this capture on that device\n(socket: Operation not permitted)\n", spec);
  assert.equal(priv.code, 'PRIVILEGE');
  assert.equal(priv.exitCode, 4);
  const dev = classifyTcpdumpFailure('tcpdump: nosuch0: No such device exists\n(No such device exists)\n', { ...spec, interface: 'nosuch0' }, ['lo', 'ens5']);
  assert.equal(dev.code, 'UNKNOWN_INTERFACE');
  assert.match(dev.hint, /any, lo, ens5/);
  const filt = classifyTcpdumpFailure("tcpdump: can't parse filter expression: syntax error\n", { ...spec, filter: 'port 80 and and' });
  assert.equal(filt.code, 'BAD_FILTER');
  assert.equal(filt.message, "bad capture filter 'port 80 and and': can't parse filter expression: syntax error");
  assert.equal(filt.exitCode, 8);
  const port = classifyTcpdumpFailure('tcpdump: illegal port number 99999 > 65535\n', { ...spec, filter: 'port 99999' });
  assert.equal(port.code, 'BAD_FILTER');
  const missing = classifyTcpdumpFailure('exec of "tcpdump" failed: No such file or directory\n', { ...spec, netns: 'ft-ec2' });
  assert.equal(missing.code, 'MISSING_DEPENDENCY');
  assert.equal(classifyTcpdumpFailure("timeout: failed to run command 'tcpdump': No such file or directory\n", spec).code, 'MISSING_DEPENDENCY');
  const ns = classifyTcpdumpFailure('Cannot open network namespace "nope": No such file or directory\n', { ...spec, netns: 'nope' });
  assert.equal(ns.code, 'NETNS_NOT_FOUND');
});

test('the tcpdump argv: pcap to stdout, unbuffered, immediate, small snaplen, big buffer, root; filter as one word', () => {
  assert.deepEqual(tcpdumpArgv(spec), ['tcpdump', '-i', 'any', '-w', '-', '-U', '--immediate-mode', '-s', '1600', '-B', '4096', '-Z', 'root', '--', 'port 80']);
  assert.ok(!tcpdumpArgv({ ...spec, packetBuffered: false }).includes('-U'));
  // A lifetime cap outlives a hard-killed flowtrace; inside a namespace it comes after ip netns exec.
  assert.deepEqual(tcpdumpArgv({ ...spec, lifetimeCapSec: 45, netns: 'ft-ec2' }).slice(0, 9), ['ip', 'netns', 'exec', 'ft-ec2', 'timeout', '--signal=INT', '--kill-after=5', '45s', 'tcpdump']);
  assert.deepEqual(tcpdumpArgv({ ...spec, filter: '', netns: 'ft-ec2' }).slice(0, 5), ['ip', 'netns', 'exec', 'ft-ec2', 'tcpdump']);
  assert.equal(TCPDUMP_DEFAULTS.snaplenBytes, 1600);
});

test('a real bad filter gives libpcap\'s message as one line, and nothing is left running', { skip: !isRoot || !haveTcpdump ? 'needs root and tcpdump' : false }, async () => {
  await assert.rejects(startCapture({ filter: 'port 80 and and', attribute: false, followNat: false }), (err: unknown) => {
    assert.ok(err instanceof FlowtraceError);
    assert.equal(err.code, 'BAD_FILTER');
    assert.ok(!err.message.includes('\n'));
    assert.match(err.message, /syntax error/);
    return true;
  });
});

test('a real unknown interface lists the interfaces there are', { skip: !isRoot || !haveTcpdump ? 'needs root and tcpdump' : false }, async () => {
  await assert.rejects(startCapture({ interfaces: ['nosuch0'], attribute: false }), (err: unknown) => {
    assert.ok(err instanceof FlowtraceError);
    assert.equal(err.code, 'UNKNOWN_INTERFACE');
    assert.match(err.hint, /\blo\b/);
    return true;
  });
});

test('without privileges tcpdump\'s refusal becomes PrivilegeError', { skip: !isRoot || !haveTcpdump ? 'needs root (to drop to nobody) and tcpdump' : false }, () => {
  // Run the real tcpdump as nobody without capabilities and classify what it says.
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', ...tcpdumpArgv(spec)], { encoding: 'utf8', timeout: 5000 });
  if (r.error) return; // setpriv missing: covered by the text test above
  assert.notEqual(r.status, 0);
  assert.equal(classifyTcpdumpFailure(r.stderr, spec).code, 'PRIVILEGE');
});
