/**
 * Regression: the tcpdump flags a user types by habit. `flowtrace analyze -r x.pcap` and
 * `flowtrace analyze -nn x.pcap` were usage errors (read took both), `flowtrace capture -nn`
 * too, and a flag a command does not take (read -w, analyze -c, capture -X …) got node's
 * generic message. Now -r/-n/-nn/-l are taken where they make sense, and the others say
 * what to do instead. Seen with: `flowtrace analyze -r x.pcap` → "Unknown option '-r'".
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { REPO } from './conformance-lib.js';

const RST = path.join(REPO, 'test/data/flow/crafted-rst.pcap');
const LO = path.join(REPO, 'test/data/capture/http-lo.pcap');
const tcpdumpPresent = spawnSync('tcpdump', ['--version']).status === 0;

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

describe('analyze speaks tcpdump\'s -r and -n', () => {
  it('-r FILE, -n and -nn give the same analysis as FILE alone', async () => {
    const plain = await cli(['analyze', RST]);
    assert.equal(plain.code, 0, plain.err);
    for (const args of [['-r', RST], ['-nn', RST], ['-n', '-r', RST], ['-nnr', RST]]) {
      const r = await cli(['analyze', ...args]);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      assert.equal(r.out, plain.out, args.join(' '));
    }
  });

  it('-r FILE then FILTER words, as tcpdump -r FILE port 80', { skip: tcpdumpPresent ? false : 'tcpdump not installed' }, async () => {
    const r = await cli(['analyze', '-r', RST, 'tcp', 'port', '80']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, (await cli(['analyze', RST, 'tcp port 80'])).out);
    assert.match(r.out, /^capture: 6 packets/);
  });
});

describe('read takes -l (lines are written as packets come)', () => {
  it('-l changes nothing in the output', async () => {
    const plain = await cli(['read', LO, '-t']);
    const l = await cli(['read', LO, '-t', '-l']);
    assert.equal(l.code, 0, l.err);
    assert.equal(l.out, plain.out);
    assert.ok(plain.out.length > 0);
  });
});

describe('a tcpdump flag a command does not take says what to do instead', () => {
  const cases: Array<[string[], string, RegExp]> = [
    [['read', LO, '-w', '/tmp/out.pcap'], '-w', /tcpdump -r IN -w OUT/],
    [['read', '-i', 'any', '-r', LO], '-i', /flowtrace capture -i IFACE/],
    [['read', LO, '-s', '0'], '-s', /snapshot length/],
    [['analyze', RST, '-c', '10'], '-c', /flowtrace read FILE -c N/],
    [['analyze', RST, '-X'], '-X', /flowtrace read FILE -X/],
    [['analyze', '-i', 'any'], '-i', /flowtrace capture -i IFACE/],
    [['capture', '-r', LO], '-r', /flowtrace read FILE/],
    [['capture', '-i', 'lo', '-X'], '-X', /-w FILE\.pcapng, then flowtrace read FILE\.pcapng -X/],
    [['capture', '-s', '0'], '-s', /first 1600 bytes/],
  ];
  for (const [args, flag, hint] of cases) {
    it(args.join(' '), async () => {
      const r = await cli(args);
      assert.equal(r.code, 2);
      const lines = r.err.split('\n');
      assert.equal(lines.length, 3, r.err); // error, hint, ''
      assert.equal(lines[0], `error[USAGE]: unknown option '${flag}'`);
      assert.match(lines[1], /^hint: /);
      assert.match(lines[1], hint);
    });
  }
});

describe('bad values say what read wants, not "run flowtrace help"', () => {
  for (const [args, hint] of [
    [[LO, '--print-sampling', '0'], /--print-sampling 100/],
    [[LO, '--time-stamp-precision=pico'], /--time-stamp-precision=nano/],
  ] as Array<[string[], RegExp]>) {
    it(args.slice(1).join(' '), async () => {
      const r = await cli(['read', ...args]);
      assert.equal(r.code, 2);
      assert.match(r.err, /^error\[USAGE\]: [^\n]+\nhint: [^\n]+\n$/);
      assert.match(r.err, hint);
    });
  }
});

describe('two captures: one line that says so, not libpcap\'s "syntax error" on the second file name', () => {
  for (const args of [['read', LO, LO], ['read', '-r', LO, LO], ['analyze', RST, LO]]) {
    it(args.map((a) => path.basename(a)).join(' '), async () => {
      const r = await cli(args);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, new RegExp(`^error\\[USAGE\\]: ${args[0]} reads one capture; '[^']+http-lo\\.pcap' would be taken as FILTER\\nhint: join captures first: mergecap -w all\\.pcapng a\\.pcap b\\.pcap`));
    });
  }
});
