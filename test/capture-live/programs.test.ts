/**
 * The process-runner seam of capture/live (and agent): `inNamespace` writes every
 * `ip netns exec`, `systemRunner` runs argv arrays, and a scripted runner sees — and can
 * answer for — every program a capture runs, with no namespace and no tcpdump.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inNamespace, systemRunner, readNatRules, tcpdumpEngine, tcpdumpArgv, type ProcessRunner, type ProgramResult } from '../../src/capture/live/index.js';

/** A runner that records every argv and answers `run` from a table (unknown programs: missing). */
function scriptedRunner(answers: Record<string, Partial<ProgramResult>>, startAs?: (argv: readonly string[]) => readonly string[]): ProcessRunner & { ran: string[][]; started: string[][] } {
  const r = {
    ran: [] as string[][],
    started: [] as string[][],
    async run(argv: readonly string[]): Promise<ProgramResult> {
      r.ran.push([...argv]);
      const a = answers[argv.join(' ')];
      return a ? { code: 0, stdout: '', stderr: '', missing: false, ...a } : { code: null, stdout: '', stderr: '', missing: true };
    },
    start(argv: readonly string[], options: Parameters<ProcessRunner['start']>[1]) {
      r.started.push([...argv]);
      return systemRunner.start(startAs ? startAs(argv) : argv, options);
    },
  };
  return r;
}

test('inNamespace: ip netns exec NAME before the argv, nothing when null', () => {
  assert.deepEqual(inNamespace('ft-ec2', ['iptables-save', '-t', 'nat']), ['ip', 'netns', 'exec', 'ft-ec2', 'iptables-save', '-t', 'nat']);
  assert.deepEqual(inNamespace(null, ['tcpdump', '-D']), ['tcpdump', '-D']);
  assert.deepEqual(tcpdumpArgv({ interface: 'any', filter: '', snaplenBytes: 1600, bufferKiB: 4096, netns: 'ft-ec2' }).slice(0, 5), ['ip', 'netns', 'exec', 'ft-ec2', 'tcpdump']);
});

test('systemRunner.run: output and exit code, a missing program, never a throw', async () => {
  const ok = await systemRunner.run([process.execPath, '-e', 'process.stdout.write("out"); process.stderr.write("err"); process.exit(3)']);
  assert.deepEqual(ok, { code: 3, stdout: 'out', stderr: 'err', missing: false });
  const missing = await systemRunner.run(['fttcap-no-such-program-here']);
  assert.equal(missing.missing, true);
  assert.equal(missing.code, null);
});

test('readNatRules goes through the runner: ip netns exec in a namespace, and its answers become rules or problems', async () => {
  const rules = '*nat\n-A DOCKER ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.17.0.2:8080\nCOMMIT\n';
  const runner = scriptedRunner({ 'ip netns exec fttcap-x iptables-save -t nat': { stdout: rules } });
  assert.deepEqual(await readNatRules('fttcap-x', 1000, runner), { text: rules, problem: null });
  assert.deepEqual(runner.ran, [['ip', 'netns', 'exec', 'fttcap-x', 'iptables-save', '-t', 'nat']]);
  assert.deepEqual(await readNatRules(null, 1000, runner), { text: '', problem: 'iptables-save is not installed (apt-get install iptables)' });
  const failing = scriptedRunner({ 'iptables-save -t nat': { code: 1, stderr: 'iptables-save v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)\n' } });
  assert.match((await readNatRules(null, 1000, failing)).problem ?? '', /^iptables-save failed: .*Permission denied/);
});

test('the tcpdump engine starts its child through the runner (here a stand-in that says what tcpdump says), and stop() ends it', async () => {
  // The stand-in prints tcpdump's "listening on" line and its counters on SIGINT.
  // (The SIGINT handler is in place before it says it listens.)
  const standIn = [process.execPath, '-e', `process.on('SIGINT', () => { process.stderr.write('0 packets captured\\n0 packets received by filter\\n0 packets dropped by kernel\\n'); process.exit(0); });
process.stderr.write('tcpdump: listening on any, link-type LINUX_SLL2\\n');
setInterval(() => {}, 1000);`];
  const runner = scriptedRunner({}, () => standIn);
  const spec = { interface: 'any', filter: 'port 80', snaplenBytes: 1600, bufferKiB: 4096, netns: 'fttcap-x' };
  const proc = tcpdumpEngine({ runner }).start(spec);
  await proc.ready;
  assert.deepEqual(runner.started, [tcpdumpArgv(spec)]);
  proc.stop();
  const exit = await proc.exited;
  assert.equal(exit.code, 0);
  assert.deepEqual(exit.stats, { captured: 0, receivedByFilter: 0, droppedByKernel: 0, droppedByInterface: null });
});
