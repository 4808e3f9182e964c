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
import { parseIfmap, readIfmapText, formatIfmap, readIfmapOfThisNamespace } from '../../src/capture/index.js';
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
    ['this is not a map\nnor this\n', /names no interfaces with an index \(line 1: "this is not a map"\)/],
    ['{"2": "ens5",', /not valid JSON/],
    ['{"two": "ens5"}', /entry "two"/],
    ['{}', /names no interfaces/],
    ['0 weird', /line 1/],
    ['lo  UNKNOWN  00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>\nens5@if4  UP  02:00:00:00:00:01 <BROADCAST,UP>\n', /lo, ens5 are listed without an index: `ip -br` prints none/],
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

test('a line that is no map is skipped and counted in the note, never an error for the whole map', () => {
  const text = '$ ip -o link\n1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n2: ens5@if4: <BROADCAST,UP> mtu 9001\nthis is not a map\n3 docker0\nens5@if4  UP  172.31.5.20/16\nveth9@if2  UP\n3 br-1\n';
  const r = readIfmapText(text);
  assert.deepEqual(r.map, new Map([[1, 'lo'], [2, 'ens5'], [3, 'br-1']]));
  assert.equal(r.skippedLines, 1, 'the line "this is not a map" (the `$ ip -o link` prompt is not data)');
  assert.deepEqual(r.namesWithoutIndex, ['veth9'], 'ens5 has an index from another line; veth9 has none');
  assert.deepEqual(r.conflicts, [{ index: 3, names: ['docker0', 'br-1'] }]);
  assert.match(r.note!, /1 line of the interface map skipped .*line 4: "this is not a map"/);
  assert.match(r.note!, /veth9 listed without an index/);
  assert.match(r.note!, /index 3 is named both docker0 and br-1/);
  assert.deepEqual(parseIfmap(text), r.map);
});

/**
 * Issue 16: the interface list as a person copies it — `ip -o link; ip -o addr` in one paste,
 * `ip -j addr`, `ip addr`, `ip -d link`, `ip -br link` mixed with `ip link` — names every
 * interface of a namespace with a veth (`ens5@ifN`), a bridge, a bridge port and addresses.
 */
test('--ifmap on `ip -o link; ip -o addr`, `ip -j addr`, `ip addr` and mixtures names every interface (real ip output)', { skip: isRoot ? false : 'needs root to create a network namespace' }, () => {
  const ns = `fttcapture-ifmix${process.pid}`;
  const peer = `fttcapture-ifmixp${process.pid}`;
  const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
  try {
    ip('netns', 'add', ns);
    ip('netns', 'add', peer);
    ip('-n', ns, 'link', 'add', 'ens5', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', peer);
    ip('-n', ns, 'link', 'add', 'docker0', 'type', 'bridge');
    ip('-n', ns, 'link', 'add', 'veth3f2a1b9', 'type', 'veth', 'peer', 'name', 'ceth0', 'netns', peer);
    ip('-n', ns, 'link', 'set', 'veth3f2a1b9', 'master', 'docker0');
    ip('-n', ns, 'addr', 'add', '172.31.5.20/16', 'dev', 'ens5');
    ip('-n', ns, 'addr', 'add', '172.17.0.1/16', 'dev', 'docker0');
    for (const l of ['lo', 'ens5', 'docker0', 'veth3f2a1b9']) ip('-n', ns, 'link', 'set', l, 'up');
    const truth = new Map((JSON.parse(ip('-n', ns, '-j', 'link')) as Array<{ ifindex: number; ifname: string }>).map((l) => [l.ifindex, l.ifname]));
    assert.deepEqual([...truth.values()].sort(), ['docker0', 'ens5', 'lo', 'veth3f2a1b9']);
    const pastes: Record<string, string> = {
      'ip -o link; ip -o addr': ip('-n', ns, '-o', 'link') + ip('-n', ns, '-o', 'addr'),
      'ip -j addr': ip('-n', ns, '-j', 'addr'),
      'ip -j -p addr': ip('-n', ns, '-j', '-p', 'addr'),
      'ip -o addr; ip -o link': ip('-n', ns, '-o', 'addr') + ip('-n', ns, '-o', 'link'),
      'ip addr': ip('-n', ns, 'addr'),
      'ip -d link': ip('-n', ns, '-d', 'link'),
      'ip -s link': ip('-n', ns, '-s', 'link'),
      'ip -br link; ip link; ip -j link': ip('-n', ns, '-br', 'link') + ip('-n', ns, 'link') + ip('-n', ns, '-j', 'link'),
    };
    for (const [what, text] of Object.entries(pastes)) {
      const r = readIfmapText(text);
      assert.deepEqual(r.map, truth, what);
      assert.equal(r.note, null, `${what}: every line read (${r.note})`);
    }
    // `ip -o addr` alone lists only the interfaces with an address: the others are not named.
    assert.deepEqual([...parseIfmap(ip('-n', ns, '-o', 'addr')).values()].sort(), ['docker0', 'ens5', 'lo']);
  } finally {
    spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    spawnSync('ip', ['netns', 'del', peer], { stdio: 'ignore' });
  }
  assert.ok(!execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).includes(ns), 'namespaces removed');
});
