/**
 * `flowtrace explain` without the lab: pastes of real outputs recorded in the lab
 * (test/data/explain, README there), split across files, from stdin, mixed with lines of
 * anything else; the CLI's output, --json, --report, exit codes and errors; redaction of what
 * curl -v shows of a request; and the formats' harder lines (flags, silent hops, curl's errors,
 * docker ps) read as the tools print them (tool manuals; each line as printed by the tool
 * version named in the docs).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { explain, segment } from '../../src/explain/index.js';
import type { FollowResult } from '../../src/follow/index.js';
import { EXIT, FOLLOW_EXIT } from '../../src/errors.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const DATA = path.join(ROOT, 'test', 'data', 'explain');
const CLI = path.join(ROOT, 'bin', 'flowtrace.js');
const text = (name: string): string => readFileSync(path.join(DATA, name), 'utf8');

function cli(args: string[], input?: string): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, 'explain', ...args], { encoding: 'utf8', input, cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('a recorded paste: every part named with its lines, the verdict follow gives, exit code per layer', async () => {
  const r = await explain([{ source: 'reply-drop-host.txt', text: text('reply-drop-host.txt') }]);
  assert.deepEqual(r.explain!.parts.map((p) => [p.format, p.command]), [
    ['nslookup', 'nslookup seqas.online'], ['traceroute', 'traceroute -n -w 1 seqas.online'], ['curl -v', 'curl -v --max-time 10 http://seqas.online/'],
    ['tcpdump', 'tcpdump -i any -nn port 80 or port 8080'], ['iptables -L', 'iptables -L -n -v'], ['ip link', 'ip -o link'],
  ]);
  const lines = text('reply-drop-host.txt').split('\n');
  for (const p of r.explain!.parts) assert.match(lines[p.fromLine - 2]!, new RegExp(`[$#] ${p.command!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`), `${p.format}: the line before its first is its prompt`);
  assert.deepEqual(r.explain!.unrecognised, []);
  assert.equal(r.source, 'explain');
  assert.equal(r.options.server, 'tcpdump text');
  assert.deepEqual([r.verdict.firstFailing, r.verdict.causeId, r.verdict.direction, r.verdict.exitCode], ['container', 'dropped-by-rule', 'reply', FOLLOW_EXIT.container]);
  assert.equal(r.server!.requests[0]!.matchedBy, 'timing', 'no HTTP reached the instance: found by time');
  assert.equal(r.howToCheck!.dns, null);
  assert.equal(r.howToCheck!.server, null);
});

test('rows without evidence say what to run; a client-only paste is not located behind the load balancer', async () => {
  const client = text('reply-drop-host.txt').split(/^root@ec2:~# tcpdump/m)[0]!;
  const r = await explain([{ source: '-', text: client }]);
  const rows = Object.fromEntries(r.verdict.rows.map((x) => [x.layer, x]));
  assert.equal(rows.instance!.status, 'not-checked');
  assert.match(rows.instance!.summary, /^not checked — run `tcpdump -i any -nn port 80 or port 8080` on the instance while the request runs/);
  assert.equal(r.verdict.causeId, 'incomplete');
  assert.match(r.verdict.nextCheck!, /on the instance: run `tcpdump/);
  const onlyCurl = client.split(/^\$ curl/m)[1]!;
  const r2 = await explain([{ source: '-', text: `$ curl${onlyCurl}` }]);
  const rows2 = Object.fromEntries(r2.verdict.rows.map((x) => [x.layer, x]));
  assert.match(rows2.dns!.summary, /^not checked — run `nslookup seqas\.online` \(the other evidence used 10\.77\.\d\.10\)/);
  assert.match(rows2.route!.summary, /no trace given — run `traceroute -n seqas\.online`/);
});

test('the client\'s and the instance\'s text in two files, or from stdin: the same reading', async () => {
  const all = text('healthy.txt');
  const [client, ec2] = [all.split(/^root@ec2:~# tcpdump/m)[0]!, `root@ec2:~# tcpdump${all.split(/^root@ec2:~# tcpdump/m)[1]!}`];
  const one = await explain([{ source: 'healthy.txt', text: all }]);
  const two = await explain([{ source: 'client.txt', text: client }, { source: 'ec2.txt', text: ec2 }]);
  assert.deepEqual(two.explain!.parts.map((p) => p.source), ['client.txt', 'client.txt', 'client.txt', 'ec2.txt', 'ec2.txt', 'ec2.txt']);
  assert.deepEqual(two.verdict.rows, one.verdict.rows);
  assert.equal(one.verdict.ok, true);
  const dir = mkdtempSync(path.join(tmpdir(), 'ftt-explain-cli-'));
  try {
    writeFileSync(path.join(dir, 'client.txt'), client);
    writeFileSync(path.join(dir, 'ec2.txt'), ec2);
    const files = cli([path.join(dir, 'client.txt'), path.join(dir, 'ec2.txt'), '--json']);
    const stdin = cli(['--json'], all);
    assert.equal(files.code, EXIT.ok, files.err);
    assert.equal(stdin.code, EXIT.ok, stdin.err);
    const a = JSON.parse(files.out) as FollowResult;
    const b = JSON.parse(stdin.out) as FollowResult;
    assert.deepEqual(a.verdict.rows, b.verdict.rows);
    assert.equal(b.explain!.parts[0]!.source, '-');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the CLI: the parts read, the table, the verdict; exit codes; --report; errors', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ftt-explain-cli-'));
  try {
    const nx = path.join(DATA, 'dns-nxdomain.txt');
    const r = cli([nx]);
    assert.equal(r.code, FOLLOW_EXIT.dns, r.err);
    assert.match(r.out, /^read \d+ parts:\n  nslookup\s+lines 2–5\s+NXDOMAIN/m);
    assert.match(r.out, /flowtrace explain http:\/\/seqas\.online\//);
    assert.match(r.out, /❌ stopped at "DNS resolved"/);
    const report = path.join(dir, 'r.html');
    const withReport = cli([path.join(DATA, 'healthy.txt'), '--report', report]);
    assert.equal(withReport.code, EXIT.ok, withReport.err);
    assert.ok(existsSync(report) && readFileSync(report, 'utf8').includes('<svg'), 'the HTML report is written');
    // Nothing recognised: an input error naming the first line; no host named: --url.
    writeFileSync(path.join(dir, 'junk.txt'), 'hello\nthis is a grocery list\n');
    const junk = cli([path.join(dir, 'junk.txt')]);
    assert.equal(junk.code, EXIT.input);
    assert.match(junk.err, /^error\[INPUT\]: nothing in the text was recognised \(line 1 of .*junk\.txt: "hello"\)\nhint: paste the output of nslookup/);
    writeFileSync(path.join(dir, 'nohost.txt'), 'Chain INPUT (policy ACCEPT 0 packets, 0 bytes)\n pkts bytes target     prot opt in     out     source               destination\n');
    const nohost = cli([path.join(dir, 'nohost.txt')]);
    assert.equal(nohost.code, EXIT.usage);
    assert.match(nohost.err, /names no host.*\nhint: give --url/);
    const withUrl = cli([path.join(dir, 'nohost.txt'), '--url', 'http://seqas.online/', '--json']);
    assert.equal(JSON.parse(withUrl.out).url, 'http://seqas.online/');
    assert.equal(cli(['/nonexistent/x.txt']).code, EXIT.input);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lines of anything else are reported with their ranges, never read into a part', () => {
  const mixed = ['Hi team, here is what I ran:', '', ...text('dns-nxdomain.txt').split('\n').slice(0, 6), 'and then it broke', 'thanks!'].join('\n');
  const s = segment(mixed, 'chat.txt');
  assert.deepEqual(s.parts.map((p) => [p.format, p.from + 1, p.to]), [['nslookup', 4, 7]]);
  assert.deepEqual(s.unrecognised.map((u) => [u.from + 1, u.to, u.text]), [[1, 1, 'Hi team, here is what I ran:'], [9, 10, 'and then it broke']]);
});

test('what curl -v shows of a request\'s credentials is hidden in every output', () => {
  const paste = [
    "$ curl -v -H 'Authorization: Bearer s3cr3t-t0ken' http://seqas.online/api",
    '*   Trying 10.77.1.10:80...',
    '* Connected to seqas.online (10.77.1.10) port 80 (#0)',
    '> GET /api HTTP/1.1',
    '> Host: seqas.online',
    '> Authorization: Bearer s3cr3t-t0ken',
    '> ',
    '< HTTP/1.1 200 OK',
    '< Set-Cookie: session=abc123',
    '< ',
    '* Connection #0 to host seqas.online left intact',
  ].join('\n');
  const r = cli(['--json'], paste);
  assert.equal(r.code, EXIT.ok, r.err);
  assert.doesNotMatch(r.out, /s3cr3t|abc123/);
  assert.match(r.out, /\[redacted\]/);
});

test('the harder lines of each format: traceroute flags and ECMP, tracepath and mtr silent hops, curl\'s failures, docker ps', async () => {
  // traceroute 2.1 (-n): a router answering !X (administratively prohibited) on the next TTL.
  const reject = await explain([{ source: '-', text: [
    '$ traceroute -n seqas.online', 'traceroute to seqas.online (10.77.1.10), 30 hops max, 60 byte packets',
    ' 1  10.10.1.1  0.110 ms  0.050 ms  0.046 ms', ' 2  10.255.1.2  0.091 ms  0.064 ms  0.060 ms', ' 3  10.255.2.2  0.098 ms !X  0.071 ms !X  0.067 ms !X',
    '$ curl -v http://seqas.online/', '*   Trying 10.77.1.10:80...', '* connect to 10.77.1.10 port 80 failed: No route to host',
    '* Failed to connect to seqas.online port 80 after 0 ms: Couldn\'t connect to server', '* Closing connection 0', 'curl: (7) Failed to connect to seqas.online port 80 after 0 ms: Couldn\'t connect to server',
  ].join('\n') }]);
  assert.deepEqual([reject.verdict.firstFailing, reject.verdict.causeId], ['route', 'route-reject']);
  assert.equal(reject.routes[0]!.hops[2]!.flag, '!X');
  assert.equal(reject.requests[0]!.error!.code, 'HTTP_UNREACHABLE');
  // Several responders on one TTL (ECMP), names with addresses, a lost probe.
  const ecmp = await explain([{ source: '-', text: [
    'traceroute to example.org (93.184.216.34), 30 hops max, 60 byte packets',
    ' 1  gw.lan (192.168.1.1)  0.412 ms  0.380 ms  0.371 ms',
    ' 2  r1.isp.net (100.64.0.1)  5.1 ms r2.isp.net (100.64.0.2)  5.3 ms *',
    ' 3  example.org (93.184.216.34)  9.8 ms  9.7 ms  9.9 ms',
  ].join('\n') }], { url: 'http://example.org/' });
  const hop2 = ecmp.routes[0]!.hops[1]!;
  assert.deepEqual(hop2.responders.map((x) => [x.address, x.rttMs]), [['100.64.0.1', [5.1]], ['100.64.0.2', [5.3]]]);
  assert.equal(hop2.lossPct, 33);
  assert.equal(ecmp.routes[0]!.reachedAtTtl, 3);
  // mtr --report with silent hops to the end: not reached.
  const mtr = await explain([{ source: '-', text: [
    '$ mtr --report -n seqas.online', 'Start: 2026-12-07T23:34:09+0000', 'HOST: vm                          Loss%   Snt   Last   Avg  Best  Wrst StDev',
    '  1.|-- 10.10.1.1                  0.0%    10    0.1   0.1   0.1   0.1   0.0', '  2.|-- 10.255.1.2                 0.0%    10    0.1   0.1   0.1   0.2   0.0',
    '  3.|-- ???                       100.0    10    0.0   0.0   0.0   0.0   0.0', '  4.|-- ???                       100.0    10    0.0   0.0   0.0   0.0   0.0',
  ].join('\n') }], { url: 'http://seqas.online/' });
  assert.equal(mtr.routes[0]!.proto, 'icmp');
  assert.equal(mtr.routes[0]!.status, 'not-reached');
  assert.deepEqual(mtr.routes[0]!.hops.map((h) => h.responders.length), [1, 1, 0, 0]);
  // curl: a refused address, then the other answered (one request per address, as follow sends).
  const partial = await explain([{ source: '-', text: [
    '$ curl -v http://seqas.online/', '*   Trying 10.77.2.10:80...', '* connect to 10.77.2.10 port 80 failed: Connection refused', '*   Trying 10.77.1.10:80...',
    '* Connected to seqas.online (10.77.1.10) port 80 (#0)', '> GET / HTTP/1.1', '> Host: seqas.online', '> ', '< HTTP/1.1 200 OK', '< ', '* Connection #0 to host seqas.online left intact',
  ].join('\n') }]);
  assert.deepEqual(partial.requests.map((q) => [q.address, q.httpStatus, q.error?.code ?? null]), [['10.77.2.10', null, 'HTTP_CONNECT_REFUSED'], ['10.77.1.10', 200, null]]);
  assert.equal(partial.verdict.firstFailing, 'loadBalancer');
  assert.equal(partial.verdict.partial!.failing[0]!.address, '10.77.2.10');
  // docker ps: its parts are read (names, state, published ports) and listed.
  const docker = await explain([{ source: '-', text: [
    '$ docker ps',
    'CONTAINER ID   IMAGE          COMMAND                  CREATED       STATUS       PORTS                                   NAMES',
    '3f2a1b9c0d1e   seqas/web:1    "node server.js"         2 hours ago   Up 2 hours   0.0.0.0:80->8080/tcp, :::80->8080/tcp   web',
  ].join('\n') }], { url: 'http://seqas.online/' });
  assert.deepEqual(docker.explain!.parts.map((p) => [p.format, p.summary]), [['docker ps', 'web: up, 80→8080/tcp 80→8080/tcp']]);
});
