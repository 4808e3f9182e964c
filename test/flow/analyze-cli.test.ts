/**
 * `flowtrace analyze` as a user meets it: text and --json, --request, FILTER through real
 * tcpdump, stdin, and every error as one line with a hint and its documented exit code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { FLOW_SCHEMA, type FlowAnalysis } from '../../src/flow/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'flow');
const SEED = path.join(DATA, 'seed-keepalive.pcap');
const SEED_IFMAP = path.join(DATA, 'seed-keepalive.ifmap');

async function run(args: string[], stdin?: NodeJS.ReadableStream): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO(stdin);
  const code = await main(['analyze', ...args], io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

function assertOneLineError(err: string, code: string): void {
  const lines = err.trimEnd().split('\n');
  assert.equal(lines.length, 2, `expected error + hint, got:\n${err}`);
  assert.match(lines[0], new RegExp(`^error\\[${code}\\]: `));
  assert.match(lines[1], /^hint: /);
  assert.doesNotMatch(err, /\n\s+at /, 'no stack trace');
}

test('analyze prints the seed diagram, the NAT mapping and the duplicate explanation', async () => {
  const r = await run([SEED, '--ifmap', SEED_IFMAP]);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  assert.match(r.out, /ALB node 172\.31\.0\.10 → ens5 → docker0 → veth3f2a1b9 → container 172\.17\.0\.2:8080 → HTTP 200/);
  assert.match(r.out, /DNAT 172\.31\.5\.20:80 → 172\.17\.0\.2:8080 \(between ens5 and docker0\)/);
  assert.match(r.out, /seen 3×: -i any captures each packet on every interface it crosses/);
  assert.match(r.out, /anomalies: none/);
});

test('--json is the documented schema', async () => {
  const r = await run([SEED, '--ifmap', SEED_IFMAP, '--json']);
  assert.equal(r.code, 0, r.err);
  const a = JSON.parse(r.out) as FlowAnalysis;
  assert.equal(a.schema, FLOW_SCHEMA);
  assert.equal(a.exchanges.length, 2);
  assert.equal(a.connections[0].legs.length, 2);
});

test('--request with --json keeps only that exchange and its connection', async () => {
  const r = await run([SEED, '--ifmap', SEED_IFMAP, '--json', '--request', '198.51.100.23']);
  assert.equal(r.code, 0, r.err);
  const a = JSON.parse(r.out) as FlowAnalysis;
  assert.deepEqual(a.exchanges.map((e) => e.request?.target), ['/chunked']);
  assert.equal(a.connections.length, 1);
});

test('--request that matches nothing: exit 1 with a hint', async () => {
  const r = await run([SEED, '--request', '/nope']);
  assert.equal(r.code, 1);
  assertOneLineError(r.err, 'NO_MATCH');
  assert.match(r.err, /no exchange matches path '\/nope' \(2 exchanges in the capture\)/);
});

test('FILTER is applied by tcpdump: only the in-host legs (port 8080) remain', async () => {
  const r = await run([SEED, 'tcp', 'port', '8080', '--ifmap', SEED_IFMAP, '--json']);
  assert.equal(r.code, 0, r.err);
  const a = JSON.parse(r.out) as FlowAnalysis;
  assert.deepEqual(a.capture.interfaces.map((i) => i.interface), ['docker0', 'veth3f2a1b9']);
  assert.equal(a.capture.records, 28);
  assert.equal(a.exchanges.length, 2);
  assert.deepEqual(a.natMappings, []);
});

test('a bad FILTER is libpcap\'s message, exit 8', async () => {
  const r = await run([SEED, 'tcp', 'port']);
  assert.equal(r.code, 8);
  assertOneLineError(r.err, 'BAD_FILTER');
  assert.match(r.err, /syntax error/);
});

test('a truncated capture read through a FILTER: the packets before the cut, a warning, exit 3', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fttflow-cut-'));
  try {
    const whole = readFileSync(SEED);
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2) + 3));
    const r = await run([cut, 'tcp', '--ifmap', SEED_IFMAP, '--json']);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /^warning: the input ends inside a record \(libpcap: truncated dump file/m);
    assert.doesNotMatch(r.err, /error\[/);
    const a = JSON.parse(r.out) as FlowAnalysis;
    assert.ok(a.capture.records > 0, 'the packets before the cut were analysed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reads a capture from stdin with -', async () => {
  const r = await run(['-', '--ifmap', SEED_IFMAP, '--json'], createReadStream(SEED));
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as FlowAnalysis).exchanges.length, 2);
});

test('an -i any capture without --ifmap says which indexes have no name', async () => {
  const r = await run([SEED]);
  assert.equal(r.code, 0);
  assert.match(r.out, /ifindex2 → ifindex3 → ifindex4/);
  assert.match(r.err, /^warning: interface indexes 2, 3, 4 .*--ifmap/m);
});

test('bad input: missing file, not a capture, truncated capture, bad options', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'fttflow-cli-'));
  try {
    let r = await run([path.join(dir, 'none.pcap')]);
    assert.equal(r.code, 3);
    assertOneLineError(r.err, 'INPUT');

    const text = path.join(dir, 'notes.txt');
    writeFileSync(text, 'this is not a capture file at all\n');
    r = await run([text]);
    assert.equal(r.code, 3);
    assertOneLineError(r.err, 'CAPTURE_FORMAT');

    // Cut inside the last packet record: what came before is analysed, exit 3.
    const whole = readFileSync(SEED);
    const cut = path.join(dir, 'cut.pcap');
    writeFileSync(cut, whole.subarray(0, whole.length - 30));
    r = await run([cut, '--ifmap', SEED_IFMAP]);
    assert.equal(r.code, 3);
    assert.match(r.out, /GET \/chunked/);
    assert.match(r.err, /CAPTURE_TRUNCATED/);
    assert.doesNotMatch(r.err, /\n\s+at /);

    r = await run([]);
    assert.equal(r.code, 2);
    assertOneLineError(r.err, 'USAGE');
    r = await run([SEED, '--keep', 'some']);
    assert.equal(r.code, 2);
    assertOneLineError(r.err, 'USAGE');
    r = await run([SEED, '--bogus']);
    assert.equal(r.code, 2);
    assertOneLineError(r.err, 'USAGE');

    const emptyMap = path.join(dir, 'empty.ifmap');
    writeFileSync(emptyMap, 'nothing here\n');
    r = await run([SEED, '--ifmap', emptyMap]);
    assert.equal(r.code, 3);
    assertOneLineError(r.err, 'INPUT');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--help documents the options and exit codes', async () => {
  const r = await run(['--help']);
  assert.equal(r.code, 0);
  for (const s of ['--ifmap', '--request', '--json', '--keep', 'exit codes']) assert.ok(r.out.includes(s), s);
});

test('a capture grouped per interface (tshark -i a -i b) is flagged; after reordercap it stitches', async () => {
  const { craftedCaptures } = await import('./make-crafted.js');
  const { pcapBytes } = await import('./craft.js');
  const { spawnSync } = await import('node:child_process');
  const c = craftedCaptures()['crafted-retransmission']; // 400 ms long: beyond the stitch window
  const grouped = [...c.frames].sort((x, y) => x.ifindex - y.ifindex || x.tsUs - y.tsUs);
  const dir = mkdtempSync(path.join(tmpdir(), 'fttflow-order-'));
  try {
    const file = path.join(dir, 'grouped.pcap');
    const ifmap = path.join(dir, 'grouped.ifmap');
    writeFileSync(file, pcapBytes(grouped, 'sll2'));
    writeFileSync(ifmap, c.ifmap!);
    let r = await run([file, '--ifmap', ifmap, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /out of time order .*reordercap/);
    assert.ok((JSON.parse(r.out) as FlowAnalysis).capture.recordsOutOfTimeOrder > 0);
    const sorted = path.join(dir, 'sorted.pcap');
    const rc = spawnSync('reordercap', [file, sorted], { encoding: 'utf8' });
    if (rc.error) { assert.fail(`reordercap is needed for this test (apt-get install wireshark-common): ${rc.error.message}`); }
    r = await run([sorted, '--ifmap', ifmap, '--json']);
    assert.equal(r.code, 0, r.err);
    assert.doesNotMatch(r.err, /out of time order/);
    const a = JSON.parse(r.out) as FlowAnalysis;
    assert.equal(a.duplicates.maxCopies, 3);
    assert.equal(a.exchanges.length, 1);
    assert.equal(a.capture.recordsOutOfTimeOrder, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--max-kept bounds what is kept (the rest counted, a warning says so); --request selects while analysing', async () => {
  const file = path.join(DATA, 'crafted-pipelining.pcap');
  const ifmap = path.join(DATA, 'crafted-pipelining.ifmap');
  let r = await run([file, '--ifmap', ifmap, '--max-kept', '1', '--json']);
  assert.equal(r.code, 0, r.err);
  let a = JSON.parse(r.out) as FlowAnalysis;
  assert.deepEqual(a.exchanges.map((e) => e.request?.target), ['/a']);
  assert.equal(a.limits.exchangesNotKept, 2);
  assert.match(r.err, /only the first 1 connections and exchanges are shown/);
  // The third exchange is found although only one summary may be kept.
  r = await run([file, '--ifmap', ifmap, '--max-kept', '1', '--json', '--request', '/c']);
  assert.equal(r.code, 0, r.err);
  a = JSON.parse(r.out) as FlowAnalysis;
  assert.deepEqual(a.exchanges.map((e) => e.request?.target), ['/c']);
  assert.equal(a.limits.selected, true);
  assert.equal(a.connections.length, 1);
  assert.equal(r.err, '');
  r = await run([file, '--max-kept', 'many']);
  assert.equal(r.code, 2);
  assertOneLineError(r.err, 'USAGE');
});

test('--keep exchanges / anomalies: the same analysis, less kept, counts say what was left out', async () => {
  let r = await run([SEED, '--ifmap', SEED_IFMAP, '--json', '--keep', 'exchanges']);
  assert.equal(r.code, 0, r.err);
  let a = JSON.parse(r.out) as FlowAnalysis;
  assert.equal(a.connections.length, 0);
  assert.equal(a.limits.connectionsNotKept, 1);
  assert.equal(a.exchanges.length, 2);
  assert.equal(a.natMappings.length, 1);
  r = await run([path.join(DATA, 'app-down.pcap'), '--ifmap', path.join(DATA, 'app-down.ifmap'), '--json', '--keep', 'anomalies']);
  assert.equal(r.code, 0, r.err);
  a = JSON.parse(r.out) as FlowAnalysis;
  assert.deepEqual([a.connections.length, a.exchanges.length], [0, 0]);
  assert.deepEqual(a.anomalies.map((x) => x.kind), ['rst-from-server']);
  assert.equal(a.duplicates.maxCopies, 3);
  // The seed capture's two exchanges are counted though not kept (kept connection or not).
  r = await run([SEED, '--ifmap', SEED_IFMAP, '--json', '--keep', 'anomalies']);
  a = JSON.parse(r.out) as FlowAnalysis;
  assert.deepEqual([a.exchanges.length, a.limits.exchangesNotKept, a.limits.connectionsNotKept], [0, 2, 1]);
  // Text output still names the anomaly and its connection.
  r = await run([path.join(DATA, 'app-down.pcap'), '--ifmap', path.join(DATA, 'app-down.ifmap'), '--keep', 'anomalies']);
  assert.match(r.out, /rst-from-server: connection refused: the container answered the SYN with RST/);
});
