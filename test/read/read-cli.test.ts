/**
 * `flowtrace read` end to end: golden output (what tcpdump 4.99 printed for the same real
 * captures, test/data/decode/*.tcpdump.txt), stdin, libpcap filters through real tcpdump,
 * JSON, and every documented error path.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { PcapngWriter, readCapture } from '../../src/capture/index.js';

import { run } from '../../src/cli/commands/read.js';
import type { CliIO } from '../../src/cli/io.js';
import { REPO } from './conformance-lib.js';
import { selfCliArgv } from '../../src/self.js';

const DATA = join(REPO, 'test/data/decode');
const ETH = join(DATA, 'lab-eth.pcap');
const ANY = join(DATA, 'lab-any.pcap');
const IFMAP = join(DATA, 'lab-any.ifmap');
const tmp = mkdtempSync(join(tmpdir(), 'fttread-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function io(stdin?: NodeJS.ReadableStream): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => { out.push(t); }, stderr: (t) => { err.push(t); }, isTTY: false, stdin: stdin ?? new PassThrough(), env: process.env, cwd: REPO, onInterrupt: () => () => {} };
}

async function read(args: string[], stdin?: NodeJS.ReadableStream): Promise<{ code: number; out: string; err: string; error: (Error & { code?: string; exitCode?: number; hint?: string }) | null }> {
  const x = io(stdin);
  try {
    const code = await run(args, x);
    return { code, out: x.out.join(''), err: x.err.join(''), error: null };
  } catch (e) {
    const error = e as Error & { code?: string; exitCode?: number; hint?: string };
    return { code: error.exitCode ?? -1, out: x.out.join(''), err: x.err.join(''), error };
  }
}

const tcpdumpPresent = spawnSync('tcpdump', ['--version']).status === 0;

describe('output equals tcpdump on real captures', () => {
  process.env.TZ = 'GMT0';
  it('Ethernet capture (IPv4/IPv6 HTTP, DNS, ICMP, ARP, ND, MLDv2)', async () => {
    const r = await read([ETH, '-#', '-tttt']);
    assert.equal(r.code, 0);
    assert.equal(r.out, readFileSync(join(DATA, 'lab-eth.tcpdump.txt'), 'utf8'));
  });

  it('-i any capture (SLL2) with the capture namespace\'s ifmap', async () => {
    const r = await read([ANY, '-#', '-tttt', '--ifmap', IFMAP]);
    assert.equal(r.code, 0);
    assert.equal(r.out, readFileSync(join(DATA, 'lab-any.tcpdump.txt'), 'utf8'));
    assert.match(r.out, /ftr-a Out IP 10\.99\.0\.1\.50420 > 10\.99\.0\.2\.8080: Flags \[S\]/);
  });

  it('-v with a filter: IPv4 header lines, checksums, quoted ICMP packet, whole HTTP heads', { skip: tcpdumpPresent ? false : 'tcpdump not installed' }, async () => {
    const r = await read([ETH, '-#', '-tttt', '-v', 'ip']);
    assert.equal(r.code, 0);
    assert.equal(r.out, readFileSync(join(DATA, 'lab-eth-v-ip.tcpdump.txt'), 'utf8'));
    // veth offloads checksums, so the captured TCP checksums are really "incorrect" (tcpdump agrees).
    assert.match(r.out, /Flags \[S\], cksum 0x14f7 \(incorrect -> 0xdd12\)/);
    assert.match(r.out, /\n\tIP \(tos 0x0, ttl 1, id \d+, offset 0, flags \[none\], proto UDP \(17\), length 60\)/);
  });

  it('--ifmap accepts "INDEX NAME" lines and JSON too; unknown index prints ?', async () => {
    const plain = join(tmp, 'plain.ifmap');
    writeFileSync(plain, '2 ens5\n');
    assert.match((await read([ANY, '-t', '-c', '1', '--ifmap', plain])).out, /^ens5  Out IP6 /);
    const json = join(tmp, 'map.json');
    writeFileSync(json, '{"2":"docker0"}');
    assert.match((await read([ANY, '-t', '-c', '1', '--ifmap', json])).out, /^docker0 Out IP6 /);
    writeFileSync(json, '{"7":"other"}');
    assert.match((await read([ANY, '-t', '-c', '1', '--ifmap', json])).out, /^\?     Out IP6 /);
  });

  it('SLL2 in pcapng (flowtrace capture -w): names come from the interface blocks', async () => {
    const writer = new PcapngWriter({ application: 'flowtrace-test', comment: null });
    const ids = new Map<number, number>();
    await readCapture(ANY, {
      onPacket(rec) {
        const ifindex = (rec.data[4] << 24) | (rec.data[5] << 16) | (rec.data[6] << 8) | rec.data[7];
        let id = ids.get(ifindex);
        if (id === undefined) {
          id = writer.addInterface({ name: ifindex === 2 ? 'ens5' : `if${ifindex}`, linkType: rec.linkType, snaplenBytes: 262144 });
          ids.set(ifindex, id);
        }
        writer.writePacket({ interfaceId: id, tsSec: rec.tsSec, tsNsec: rec.tsNsec, data: Uint8Array.from(rec.data), originalLength: rec.originalLength, comment: null, epbDirection: 0 });
      },
    });
    const file = join(tmp, 'named.pcapng');
    writeFileSync(file, writer.bytes());
    const r = await read([file, '-t', '-c', '8']);
    assert.equal(r.code, 0);
    assert.match(r.out.split('\n')[7], /^ens5  Out IP 10\.99\.0\.1\.50420 > 10\.99\.0\.2\.8080: Flags \[S\]/);
    // An explicit --ifmap still wins.
    const map = join(tmp, 'wins.ifmap');
    writeFileSync(map, '2 eth9\n');
    assert.match((await read([file, '-t', '-c', '1', '--ifmap', map])).out, /^eth9  Out /);
  });

  it('local time of day respects TZ', async () => {
    const saved = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Kolkata'; // UTC+05:30, no DST
      const r = await read([ETH, '-c', '1']);
      assert.match(r.out, /^01:23:03\.895141 IP6 /);
    } finally {
      process.env.TZ = saved;
    }
  });

  it('-S prints absolute sequence numbers, -q short lines, -e the Ethernet header', async () => {
    const abs = (await read([ETH, '-t', '-S', 'tcp port 8080 and ip', ...[]])).out.split('\n');
    if (tcpdumpPresent) assert.match(abs[2], /Flags \[\.\], ack 1704624101, win 63/);
    const q = (await read([ETH, '-t', '-q', '-c', '8'])).out.split('\n');
    assert.equal(q[7], 'IP 10.99.0.1.50420 > 10.99.0.2.8080: tcp 0');
    const e = (await read([ETH, '-t', '-e', '-c', '6'])).out.split('\n');
    assert.equal(e[5], '4e:32:72:2a:a6:31 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.99.0.2 tell 10.99.0.1, length 28');
  });
});

describe('stdin, filters, -c, JSON', () => {
  it('-r FILE works like tcpdump (filter words then all belong to the filter)', { skip: tcpdumpPresent ? false : 'tcpdump not installed' }, async () => {
    const r = await read(['-r', ETH, '-t', 'udp', 'port', '53']);
    assert.equal(r.code, 0);
    assert.equal(r.out.split('\n').length - 1, 2);
  });

  it('reads a capture from stdin (-)', async () => {
    const r = await read(['-', '-t', '-c', '2'], Readable.from([readFileSync(ETH)]));
    assert.equal(r.code, 0);
    assert.equal(r.out.split('\n').length - 1, 2);
  });

  it('applies a libpcap filter through tcpdump, from a file and from stdin', { skip: tcpdumpPresent ? false : 'tcpdump not installed' }, async () => {
    const r = await read([ETH, '-t', 'udp', 'port', '53']);
    assert.equal(r.code, 0);
    assert.deepEqual(r.out.trim().split('\n'), [
      'IP 10.99.0.1.37930 > 10.99.0.2.53: 4660+ A? www.seqas.online. (34)',
      'IP 10.99.0.2.53 > 10.99.0.1.37930: 4660* 1/0/0 A 10.99.0.80 (50)',
    ]);
    const s = await read(['-', '-t', '-c', '1', 'icmp[icmptype] == icmp-unreach'], Readable.from([readFileSync(ANY)]));
    assert.equal(s.code, 0);
    assert.match(s.out, /ICMP 10\.99\.0\.2 udp port 33434 unreachable, length 68\n$/);
  });

  it('a filter libpcap rejects is a one-line BAD_FILTER error (exit 8)', { skip: tcpdumpPresent ? false : 'tcpdump not installed' }, async () => {
    const r = await read([ETH, 'tcp', 'port']);
    assert.equal(r.error?.code, 'BAD_FILTER');
    assert.equal(r.code, 8);
    assert.match(r.error!.message, /syntax error/);
    assert.ok(!r.error!.message.includes('\n'));
  });

  it('--json: one object per packet with the documented fields', async () => {
    const r = await read([ANY, '--json', '--ifmap', IFMAP, '-c', '13']);
    const rows = r.out.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(rows.length, 13);
    const get = rows[10];
    assert.equal(get.index, 11);
    assert.equal(get.interface, 'ftr-a');
    assert.equal(get.link.direction, 'out');
    assert.deepEqual([get.network.src, get.network.dst], ['10.99.0.1', '10.99.0.2']);
    assert.deepEqual(get.transport.flags, ['PSH', 'ACK']);
    assert.equal(get.http.method, 'GET');
    assert.equal(get.time, '2026-11-23T19:53:04.542078000Z');
    assert.equal(rows[12].http.status, 200);
    assert.equal(rows[12].http.reason, 'OK');
    assert.equal(get.dns, null);
  });

  it('--json decodes DNS with dns-packet', async () => {
    const rows = (await read([ETH, '--json'])).out.trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.dns !== null);
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0].dns.questions, [{ name: 'www.seqas.online', type: 'A', class: 'IN' }]);
    assert.equal(rows[0].dns.response, false);
    assert.deepEqual(rows[1].dns.answers, [{ name: 'www.seqas.online', type: 'A', ttl: 0, data: '10.99.0.80' }]);
    assert.ok(rows[1].dns.flags.includes('AA'));
  });
});

describe('errors', () => {
  it('missing file → INPUT, exit 3', async () => {
    const r = await read([join(tmp, 'nope.pcap')]);
    assert.equal(r.error?.code, 'INPUT');
    assert.equal(r.code, 3);
  });

  it('not a capture → CAPTURE_FORMAT, exit 3', async () => {
    const r = await read([join(DATA, 'make-captures.sh')]);
    assert.equal(r.error?.code, 'CAPTURE_FORMAT');
    assert.equal(r.code, 3);
  });

  it('with a FILTER, file-level errors are the same as without one (our message, not tcpdump\'s)', { skip: tcpdumpPresent ? false : 'tcpdump not installed' }, async () => {
    const notCapture = join(DATA, 'make-captures.sh');
    for (const [args, stdin] of [[[notCapture], undefined], [['-'], Readable.from([])], [[tmp], undefined]] as Array<[string[], NodeJS.ReadableStream | undefined]>) {
      const plain = await read(args, stdin);
      const again = args[0] === '-' ? Readable.from([]) : undefined;
      const filtered = await read([...args, 'tcp'], again);
      assert.ok(plain.error, `${args[0]}: an error without a filter`);
      assert.equal(filtered.code, 3, `${args[0]}: exit 3 with a filter`);
      assert.equal(filtered.error?.code, plain.error.code, `${args[0]}: same code`);
      assert.equal(filtered.error?.message, plain.error.message, `${args[0]}: same message`);
    }
  });

  it('unreadable file → INPUT with a permission hint', async () => {
    const f = join(tmp, 'secret.pcap');
    writeFileSync(f, readFileSync(ETH));
    chmodSync(f, 0o000);
    if (process.getuid?.() !== 0) {
      const r = await read([f]);
      assert.equal(r.error?.code, 'INPUT');
      assert.match(r.error!.message, /permission denied/);
      return;
    }
    // Root reads any file: run the CLI as the unprivileged user nobody instead.
    chmodSync(tmp, 0o755);
    const [node, ...rest] = selfCliArgv();
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', node!, ...rest, 'read', f], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /^error\[INPUT\]: .*permission denied.*\nhint: /);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('a truncated file prints the packets before the cut, then a warning; exit 3', async () => {
    const cut = join(tmp, 'cut.pcap');
    writeFileSync(cut, readFileSync(ETH).subarray(0, 3000));
    const r = await read([cut, '-t']);
    assert.equal(r.code, 3);
    assert.equal(r.out.split('\n').length - 1, 26);
    assert.match(r.err, /^warning: .*; the 26 packet\(s\) before it were printed\n$/);
  });

  it('a truncated file with a FILTER: the matching packets before the cut, then a warning (not an error); exit 3', { skip: tcpdumpPresent ? false : 'tcpdump not installed' }, async () => {
    const cut = join(tmp, 'cut-filter.pcap');
    writeFileSync(cut, readFileSync(ETH).subarray(0, 3000));
    const all = (await read([cut, '-t'])).out.split('\n').filter((l) => /\.8080[ :]/.test(l));
    const r = await read([cut, '-t', 'tcp port 8080']);
    assert.equal(r.error, null, `no error thrown: ${r.error?.message}`);
    assert.equal(r.code, 3);
    assert.ok(all.length > 0, 'the cut file holds port-8080 packets');
    assert.deepEqual(r.out.trim().split('\n'), all);
    assert.match(r.err, new RegExp(`^warning: the input ends inside a record \\(libpcap: truncated dump file[^\n]*\\); the ${all.length} matching packet\\(s\\) before it were printed\n$`));
  });

  it('bad options → USAGE, exit 2', async () => {
    assert.equal((await read([])).error?.code, 'USAGE');
    assert.equal((await read([ETH, '-c', 'x'])).error?.code, 'USAGE');
    assert.equal((await read([ETH, '--bogus'])).error?.code, 'USAGE');
  });

  it('tcpdump missing for a filter → MISSING_DEPENDENCY with the apt hint, exit 5', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO, 'src/cli/bin.ts'), 'read', ETH, 'tcp'], { env: { ...process.env, PATH: '/nonexistent' }, encoding: 'utf8', cwd: REPO });
    assert.equal(r.status, 5);
    assert.equal(r.stderr, 'error[MISSING_DEPENDENCY]: tcpdump is not installed (or not on PATH)\nhint: install it: apt-get install tcpdump\n');
  });

  it('piped into head: stops quietly (no EPIPE stack trace)', async () => {
    const big = join(tmp, 'big.pcap');
    const one = readFileSync(ETH);
    const body = one.subarray(24);
    writeFileSync(big, Buffer.concat([one, ...Array.from({ length: 300 }, () => body)]));
    const child = spawn('bash', ['-c', `"${process.execPath}" --import tsx "${join(REPO, 'src/cli/bin.ts')}" read "${big}" | head -1; echo "status \${PIPESTATUS[0]}" >&2`], { cwd: REPO });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    await new Promise((r) => child.on('close', r));
    assert.equal(out.split('\n').length - 1, 1);
    assert.equal(err.trim(), 'status 0');
  });
});
