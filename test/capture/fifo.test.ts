/**
 * Regression: a capture given as a FIFO (`mkfifo p; flowtrace read p`) could not be stopped.
 * Ctrl-C aborted, but the open of a FIFO without a writer, and the read of a silent one,
 * held a thread-pool thread: readCapture never settled and the process never exited until
 * the writer wrote or closed. With a FILTER, createReadStream held the FIFO the same way.
 * Seen with: `mkfifo /tmp/p; flowtrace read /tmp/p & sleep 1; kill -INT $!` (still running).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { filterCapture, readCapture } from '../../src/capture/index.js';
import { DATA_DIR } from './helpers.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'fttcapture-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const CAPTURE = readFileSync(path.join(DATA_DIR, 'http-lo.pcap'));
let fifos = 0;
function fifo(): string {
  const p = path.join(tmp, `fifo${fifos++}`);
  execFileSync('mkfifo', [p]);
  return p;
}

// A hang is these tests' failure: the bound turns it into a failed test instead of a stuck run.
const HANG_BOUND = { timeout: 30_000 };

describe('a FIFO input stops when asked', () => {
  it('abort while the FIFO has no writer yet: readCapture rejects with the reason', HANG_BOUND, async () => {
    const p = fifo();
    const abort = new AbortController();
    const reading = readCapture(p, { onPacket: () => {} }, { signal: abort.signal });
    setImmediate(() => abort.abort(new Error('interrupted')));
    await assert.rejects(reading, /interrupted/);
  });

  it('abort while the writer is silent after some packets: readCapture rejects, the writer sees the reader gone', HANG_BOUND, async () => {
    const p = fifo();
    const abort = new AbortController();
    let packets = 0;
    const reading = readCapture(p, { onPacket: () => { if (++packets === 3) abort.abort(new Error('interrupted')); } }, { signal: abort.signal });
    const writer = createWriteStream(p);
    writer.write(CAPTURE); // and stays open, silent
    await assert.rejects(reading, /interrupted/);
    assert.ok(packets >= 3);
    // The reader's end is closed: the next write breaks the pipe.
    const failed = once(writer, 'error');
    writer.write(CAPTURE);
    const [err] = (await failed) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'EPIPE');
  });

  it('a FIFO read whole, then its writer closes: every packet, as from a file', HANG_BOUND, async () => {
    const p = fifo();
    let packets = 0;
    const reading = readCapture(p, { onPacket: () => { packets++; } });
    createWriteStream(p).end(CAPTURE);
    const summary = await reading;
    assert.equal(summary.truncated, null);
    let fromFile = 0;
    await readCapture(path.join(DATA_DIR, 'http-lo.pcap'), { onPacket: () => { fromFile++; } });
    assert.equal(packets, fromFile);
    assert.ok(packets > 0);
  });

  it('with a FILTER: stop() closes the FIFO, with or without a writer', HANG_BOUND, async () => {
    const silent = fifo();
    const withoutWriter = filterCapture(silent, ['tcp']);
    withoutWriter.output.resume();
    setImmediate(() => withoutWriter.stop());
    await withoutWriter.done.catch(() => null); // and this file's process exits: no open left blocked
    const p = fifo();
    const filtered = filterCapture(p, ['tcp']);
    const writer = createWriteStream(p);
    writer.write(CAPTURE);
    await once(filtered.output, 'data'); // tcpdump -U passed packets on: the FIFO is being read
    filtered.stop();
    await filtered.done.catch(() => null);
    const failed = once(writer, 'error');
    writer.write(CAPTURE);
    const [err] = (await failed) as [NodeJS.ErrnoException];
    assert.equal(err.code, 'EPIPE');
  });
});
