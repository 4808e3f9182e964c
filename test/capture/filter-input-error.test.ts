/**
 * Regression: a capture followed by garbage, read with a FILTER from a stdin still being
 * written (`(cat x.pcap; cat /dev/urandom) | flowtrace read - tcp`), was
 * error[BAD_FILTER] "rejected by libpcap: pcap_loop: invalid packet capture length …" (exit 8:
 * "invalid" matched the filter-error words) — and flowtrace never exited: nothing destroyed
 * stdin once tcpdump was gone, so the endless writer kept the process alive.
 * Now libpcap's pcap_loop words are an input error (exit 3), and stdin is let go.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { DATA_DIR } from './helpers.js';

const tcpdumpPresent = spawnSync('tcpdump', ['--version']).status === 0;
const CAPTURE = readFileSync(path.join(DATA_DIR, 'http-lo.pcap'));

test('read - tcp: garbage after the packets is an input error, and stdin is released', { skip: tcpdumpPresent ? false : 'tcpdump not installed', timeout: 60_000 }, async () => {
  const stdin = new PassThrough();
  const io = memoryIO(stdin);
  const done = main(['read', '-', 'tcp', '-t'], io);
  stdin.write(CAPTURE);
  // A record header with an impossible length; the writer never ends (cat /dev/urandom).
  stdin.write(Buffer.alloc(16, 0xff));
  {
    const code = await done;
    const err = io.err.join('');
    assert.equal(code, 3, err);
    assert.doesNotMatch(err, /BAD_FILTER/);
    assert.match(err, /^error\[INPUT\]: tcpdump could not read the capture to filter it: pcap_loop: invalid packet capture length/);
    assert.equal(io.out.join('').split('\n').filter((l) => l !== '').length, 24); // the packets before the garbage
    assert.equal(stdin.destroyed, true, 'stdin is still being read after tcpdump ended');
  }
});
