/**
 * Interface maps: real `ip -o link` / `ip link` / `ip -j link` output of this machine, the
 * simple and JSON formats, bad input as InputError, and /sys/class/net inside a namespace
 * with an `ens5` and a `docker0` (root only; the namespace fttcapture-ifmap is removed even
 * when the test fails).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIfmap, formatIfmap, readIfmapOfThisNamespace } from '../../src/capture/index.js';
import { InputError, EXIT } from '../../src/errors.js';

const isRoot = process.getuid?.() === 0;

test('real `ip -o link`, `ip link` and `ip -j link` output give this namespace\'s map', () => {
  const expected = readIfmapOfThisNamespace();
  assert.ok(expected.get(1) === 'lo', 'lo is index 1');
  for (const args of [['-o', 'link'], ['link'], ['-j', 'link']]) {
    const text = execFileSync('ip', args, { encoding: 'utf8' });
    assert.deepEqual(parseIfmap(text), expected, `ip ${args.join(' ')}`);
  }
});

test('ip link lines with @peer suffixes, the simple format, JSON, and formatIfmap round trip', () => {
  const ipLink = [
    '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00',
    '2: ens5@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 9001 qdisc mq state UP mode DEFAULT group default qlen 1000\\    link/ether 02:1a:2b:3c:4d:5e brd ff:ff:ff:ff:ff:ff',
    '3: docker0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default',
    '    link/ether 02:42:ac:11:00:01 brd ff:ff:ff:ff:ff:ff',
    '    altname dock0',
    '5: veth1a2b3c@if4: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master docker0 state UP',
  ].join('\n');
  const expected = new Map([[1, 'lo'], [2, 'ens5'], [3, 'docker0'], [5, 'veth1a2b3c']]);
  assert.deepEqual(parseIfmap(ipLink), expected);
  assert.deepEqual(parseIfmap('# index name\n1 lo\n2\tens5\n\n3=docker0\n5: veth1a2b3c\n'), expected);
  assert.deepEqual(parseIfmap('{"1":"lo","2":"ens5","3":"docker0","5":"veth1a2b3c"}'), expected);
  assert.equal(formatIfmap(expected), '1 lo\n2 ens5\n3 docker0\n5 veth1a2b3c\n');
  assert.deepEqual(parseIfmap(formatIfmap(expected)), expected);
});

test('bad interface maps are one-line InputErrors with a hint', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /is empty/],
    ['2 ens5\nthis is not a map\n', /line 2 is neither "INDEX NAME" nor `ip link` output/],
    ['{"2": "ens5",', /not valid JSON/],
    ['{"two": "ens5"}', /entry "two"/],
    ['{}', /names no interfaces/],
    ['0 weird', /line 1/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseIfmap(text), (e: unknown) => e instanceof InputError && message.test(e.message) && !e.message.includes('\n') && e.exitCode === EXIT.input && /ip -o link/.test(e.hint), JSON.stringify(text));
  }
});

test('readIfmapOfThisNamespace inside a namespace with ens5 and docker0', { skip: isRoot ? false : 'needs root to create a network namespace' }, () => {
  const ns = `fttcapture-ifmap${process.pid}`;
  const ip = (...args: string[]): void => { execFileSync('ip', args, { stdio: 'ignore' }); };
  try {
    ip('netns', 'add', ns);
    ip('-n', ns, 'link', 'add', 'ens5', 'type', 'veth', 'peer', 'name', 'vethpeer');
    ip('-n', ns, 'link', 'add', 'docker0', 'type', 'bridge');
    const module = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/capture/index.ts');
    const script = `import { readIfmapOfThisNamespace, formatIfmap } from ${JSON.stringify(module)}; process.stdout.write(formatIfmap(readIfmapOfThisNamespace()));`;
    const child = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    const map = parseIfmap(child.stdout);
    assert.deepEqual([...map.values()].sort(), ['docker0', 'ens5', 'lo', 'vethpeer']);
    const viaIp = parseIfmap(execFileSync('ip', ['-n', ns, '-o', 'link'], { encoding: 'utf8' }));
    assert.deepEqual(map, viaIp);
  } finally {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  }
  assert.ok(!execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(ns), 'namespace removed');
});
