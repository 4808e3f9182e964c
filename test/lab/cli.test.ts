/**
 * `flowtrace lab` argument handling and refusals: one-line errors with hints and the
 * documented exit codes. None of these builds the lab.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';
import { selfCliArgv } from '../../src/self.js';
import { IS_ROOT } from './helpers.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

test('lab without a subcommand prints the usage (exit 2); --help exits 0', async () => {
  const r = await cli(['lab']);
  assert.equal(r.code, EXIT.usage);
  assert.match(r.out, /usage: flowtrace lab SUBCOMMAND/);
  assert.equal((await cli(['lab', '--help'])).code, EXIT.ok);
});

test('unknown subcommand, node, fault and option: one-line usage errors with a hint', async () => {
  for (const [args, re] of [
    [['lab', 'frob'], /unknown lab subcommand 'frob'/],
    [['lab', 'exec', 'mars', '--', 'true'], /unknown lab node 'mars'/],
    [['lab', 'exec', 'client'], /lab exec needs a command/],
    [['lab', 'fault', 'no-such-fault'], /unknown fault 'no-such-fault'/],
    [['lab', 'fault'], /lab fault needs one fault name/],
    [['lab', 'status', '--bogus'], /lab: Unknown option '--bogus'/],
  ] as const) {
    const r = await cli([...args]);
    assert.equal(r.code, EXIT.usage, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
    assert.match(r.err, /^error\[USAGE\]: .*\nhint: .+\n$/);
  }
});

test('lab faults lists every fault on one line each, with its layer and symptom', async () => {
  const r = await cli(['lab', 'faults']);
  assert.equal(r.code, EXIT.ok);
  const lines = r.out.trimEnd().split('\n');
  assert.ok(lines.length >= 14);
  const both = ['reply-drop-host', 'nacl-ephemeral', 'no-route-back', 'container-no-route', 'alb-node-down', 'rp-filter', 'app-wrong-port',
    'app-localhost', 'mtu-blackhole', 'container-arp', 'conntrack-full', 'asymmetric-route'];
  for (const name of ['dns-nxdomain', 'dns-down', 'dns-drop', 'route-blackhole', 'route-reject', 'no-route', 'icmp-ratelimit', 'sg-block', 'host-firewall', 'dnat-missing', 'app-down', 'veth-down', 'app-slow', 'app-500', ...both]) {
    assert.equal(lines.filter((l) => l.includes(` ${name} `)).length, 1, name);
  }
  const json = JSON.parse((await cli(['lab', 'faults', '--json'])).out) as { name: string; layer: string; symptom: string }[];
  assert.ok(json.every((f) => f.name && f.layer && f.symptom));
  for (const name of both) assert.equal(json.filter((f) => f.name === name).length, 1, `--json lists ${name}`);
});

test('lab up refuses without root: PRIVILEGE error with a hint, exit 4, nothing created', { skip: IS_ROOT ? false : 'already not root: covered by running as a normal user' }, () => {
  // As root, run the CLI as the unprivileged user `nobody` to see the refusal.
  const [node, ...rest] = selfCliArgv();
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', node!, ...rest, 'lab', 'up'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, EXIT.privilege, r.stderr);
  assert.match(r.stderr, /^error\[PRIVILEGE\]: flowtrace lab up needs privileges flowtrace does not have\nhint: .*root/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

if (!IS_ROOT) {
  // Only defined when the suite itself runs unprivileged; as root the setpriv test above covers it.
  test('lab up refuses without root (running as a normal user)', async () => {
    const r = await cli(['lab', 'up']);
    assert.equal(r.code, EXIT.privilege);
    assert.match(r.err, /^error\[PRIVILEGE\]/);
  });
}

test('a missing program is a MISSING_DEPENDENCY error naming the Debian package (exit 5)', async () => {
  const { requirePrograms } = await import('../../src/lab/system.js');
  assert.throws(() => requirePrograms(['ip', 'flowtrace-no-such-program']), (e: unknown) => {
    const err = e as { code: string; exitCode: number; message: string; hint: string };
    return err.code === 'MISSING_DEPENDENCY' && err.exitCode === EXIT.dependency && /flowtrace-no-such-program is not installed/.test(err.message) && /apt-get install/.test(err.hint);
  });
  assert.doesNotThrow(() => requirePrograms(['ip', 'iptables-restore', 'dnsmasq', 'openssl', 'nft']));
});
