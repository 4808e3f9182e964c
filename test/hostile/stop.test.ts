/**
 * Hostile input: every stop obeyed within 1 s (issue 13). While `analyze` worked through a
 * pcapng of 40 000 interface blocks, SIGTERM was ignored for minutes: the work ran in one
 * synchronous stretch. Now the reader hands the parser 64 KiB at a time and lets the event
 * loop run every YIELD_AFTER_MS, so a stop is seen whatever one chunk of input costs; analyze
 * then says how far it got (error[INTERRUPTED], exit 130, docs/analyze.md).
 *
 * The library tests make the per-packet work slow on purpose (a consumer that spins), so they
 * do not depend on how fast the engine is; the CLI tests use a SYN flood sized from a
 * measurement of this machine's speed (about 4 s of work), and a FIFO fed without end.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { readCapture, YIELD_AFTER_MS, type ReadProgress } from '../../src/capture/index.js';
import { analyzeCapture } from '../../src/flow/index.js';
import { runCli, sleep, synFlood, tempDir, untilOpened, writeInput } from './inputs.js';

/** The bound for obeying a stop. */
const STOP_BOUND_MS = 1000;
const SIGNAL_AFTER_MS = 300;
const HANG_BOUND = { timeout: 120_000 };

const tmp = tempDir();
after(() => tmp.remove());

/** A consumer that costs `us` µs per packet: a chunk of packets is then seconds of work. */
function slowConsumer(us: number): { onPacket(): void } {
  return { onPacket() { const until = performance.now() + us / 1000; while (performance.now() < until) { /* spin */ } } };
}

/** Starts `read`, aborts it after SIGNAL_AFTER_MS; resolves with how long the abort took to be obeyed. */
async function abortAfterDelay(start: (signal: AbortSignal, progress: ReadProgress) => Promise<unknown>): Promise<{ obeyedMs: number; progress: ReadProgress; error: unknown }> {
  const controller = new AbortController();
  const progress: ReadProgress = { packets: 0, bytes: 0 };
  const reason = new Error('stop');
  let abortedAt = 0;
  setTimeout(() => { abortedAt = performance.now(); controller.abort(reason); }, SIGNAL_AFTER_MS);
  const error = await start(controller.signal, progress).then(() => null, (err: unknown) => err);
  assert.ok(abortedAt > 0, 'the read ended before the abort: make the input bigger');
  assert.equal(error, reason);
  return { obeyedMs: performance.now() - abortedAt, progress, error };
}

describe('the reader lets the event loop run, whatever one chunk costs', () => {
  // 40 000 packets at 50 µs each: 2 s of work in the reader's first 1 MiB… if it never yielded.
  const FLOOD = synFlood(200_000);

  it('a file read in 1 MiB chunks: an abort is obeyed within the bound, and progress says how far it got', HANG_BOUND, async (t) => {
    const file = writeInput(tmp.file('flood-lib.pcap'), FLOOD);
    const { obeyedMs, progress } = await abortAfterDelay((signal, p) => readCapture(file, slowConsumer(50), { signal, progress: p }));
    t.diagnostic(`obeyed after ${obeyedMs.toFixed(0)} ms, ${progress.packets} packets read`);
    assert.ok(obeyedMs < STOP_BOUND_MS, `${obeyedMs.toFixed(0)} ms`);
    assert.ok(obeyedMs < 4 * YIELD_AFTER_MS + 100, `${obeyedMs.toFixed(0)} ms: the reader yields every ${YIELD_AFTER_MS} ms`);
    assert.ok(progress.packets > 0 && progress.packets < 200_000, `${progress.packets} packets`);
    assert.ok(progress.bytes > 0 && progress.bytes < FLOOD.length);
  });

  it('a stream that hands over the whole capture as one chunk (15 MB)', HANG_BOUND, async () => {
    const { obeyedMs } = await abortAfterDelay((signal, p) => readCapture(Readable.from([FLOOD]), slowConsumer(50), { signal, progress: p }));
    assert.ok(obeyedMs < 4 * YIELD_AFTER_MS + 100, `${obeyedMs.toFixed(0)} ms`);
  });

  it('analyzeCapture: the same through the flow engine', HANG_BOUND, async () => {
    const { obeyedMs, progress } = await abortAfterDelay((signal, p) => analyzeCapture(Readable.from([FLOOD]), { signal, progress: p }));
    assert.ok(obeyedMs < STOP_BOUND_MS, `${obeyedMs.toFixed(0)} ms`);
    assert.ok(progress.packets > 0);
  });
});

describe('analyze on a big hostile file: SIGTERM and SIGINT obeyed within 1 s', () => {
  let file: string;
  let packets: number;
  before(async () => {
    // Sized from this machine's speed: about 4 s of work, so the stop comes mid-way.
    const sample = 20_000;
    await analyzeCapture(Readable.from([synFlood(sample)])); // warm-up
    const t0 = performance.now();
    await analyzeCapture(Readable.from([synFlood(sample)]));
    const perSecond = sample / ((performance.now() - t0) / 1000);
    packets = Math.min(2_000_000, Math.max(50_000, Math.ceil(perSecond * 4)));
    file = writeInput(tmp.file('flood.pcap'), synFlood(packets));
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} ${SIGNAL_AFTER_MS} ms into the reading: exit 130 within ${STOP_BOUND_MS} ms, one error line and a hint saying how far it got`, HANG_BOUND, async (t) => {
      const run = runCli(['analyze', file]);
      try {
        await untilOpened(run.child.pid!, file);
        await sleep(SIGNAL_AFTER_MS);
        assert.equal(run.child.exitCode, null, `analyze of ${packets} packets finished before the stop: the input is too small for this machine`);
        const sentAt = performance.now();
        run.child.kill(signal);
        const { code, at } = await run.exited;
        t.diagnostic(`${signal} obeyed after ${(at - sentAt).toFixed(0)} ms`);
        assert.equal(code, 130, run.stderr);
        assert.ok(at - sentAt < STOP_BOUND_MS, `${(at - sentAt).toFixed(0)} ms`);
        assert.equal(run.stdout, '');
        const m = /^error\[INTERRUPTED\]: analyze was interrupted after reading (\d+) packets \(([\d.]+) of ([\d.]+) MiB, (\d+)%\); nothing is printed for part of a capture\nhint: let it run to the end, or analyse a part on purpose: editcap -r \S+ part\.pcapng 1-(\d+), or narrow it with a FILTER \(host 10\.0\.0\.5\) or --request\n$/.exec(run.stderr);
        assert.ok(m, run.stderr);
        assert.ok(Number(m[1]) > 0 && Number(m[1]) < packets);
        assert.equal(m[5], m[1]);
        assert.equal(Number(m[3]), Number(((24 + packets * 76) / 1048576).toFixed(1)));
      } finally {
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
      }
    });
  }
});

describe('analyze on a FIFO fed without end (a live capture that never stops)', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal}: exit 130 within ${STOP_BOUND_MS} ms, and how many packets were read`, HANG_BOUND, async () => {
      const fifo = tmp.file(`endless-${signal}.fifo`);
      execFileSync('mkfifo', [fifo]);
      const run = runCli(['analyze', fifo]);
      const writer = createWriteStream(fifo);
      writer.on('error', () => { /* EPIPE once analyze is gone */ });
      // The flood goes on and on: parts of 10 000 SYNs, written as fast as analyze reads.
      const parts = Array.from({ length: 8 }, (_, k) => synFlood(10_000, (k + 1) * 10_000, false));
      let next = 0;
      const pump = (): void => {
        while (!writer.destroyed) {
          if (!writer.write(parts[next++ % parts.length])) { writer.once('drain', pump); return; }
        }
      };
      writer.once('open', () => { writer.write(synFlood(1, 0, true)); pump(); });
      try {
        await untilOpened(run.child.pid!, fifo);
        await sleep(SIGNAL_AFTER_MS);
        const sentAt = performance.now();
        run.child.kill(signal);
        const { code, at } = await run.exited;
        assert.equal(code, 130, run.stderr);
        assert.ok(at - sentAt < STOP_BOUND_MS, `${(at - sentAt).toFixed(0)} ms`);
        assert.match(run.stderr, /^error\[INTERRUPTED\]: analyze was interrupted after reading \d+ packets \([\d.]+ MiB\); nothing is printed for part of a capture\nhint: let it run to the end, or analyse a part on purpose: editcap -r \S+ part\.pcapng 1-\d+, or narrow it with a FILTER \(host 10\.0\.0\.5\) or --request\n$/);
      } finally {
        writer.destroy();
        if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
      }
    });
  }
});

describe('a reader of the output that stops reading or goes away', () => {
  it('read with a stdout nobody reads: SIGTERM still exits within 1 s (queued output is dropped)', HANG_BOUND, async () => {
    const file = writeInput(tmp.file('flood-read.pcap'), synFlood(200_000));
    const run = runCli(['read', file]);
    run.child.stdout!.pause(); // the pipe fills, the queue grows: the reader never reads
    run.child.stdout!.removeAllListeners('data');
    try {
      await untilOpened(run.child.pid!, file);
      await sleep(SIGNAL_AFTER_MS);
      const sentAt = performance.now();
      run.child.kill('SIGTERM');
      const { code, at } = await run.exited;
      assert.equal(code, 130, run.stderr);
      assert.ok(at - sentAt < STOP_BOUND_MS, `${(at - sentAt).toFixed(0)} ms`);
      assert.match(run.stderr, /^error\[INTERRUPTED\]: read was interrupted after \d+ packets\nhint: /);
    } finally {
      if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    }
  });

  it('analyze --json whose reader goes away after the first bytes: exit 0 at once, nothing on stderr', HANG_BOUND, async () => {
    const file = writeInput(tmp.file('flood-json.pcap'), synFlood(30_000));
    const run = runCli(['analyze', file, '--json', '--max-kept', '30000']);
    const [first] = await once(run.child.stdout!, 'data') as [string];
    assert.match(first, /^\{/);
    const closedAt = performance.now();
    run.child.stdout!.destroy(); // as `| head -c 100` does
    const { code, at } = await run.exited;
    assert.equal(code, 0, run.stderr);
    assert.ok(at - closedAt < STOP_BOUND_MS, `${(at - closedAt).toFixed(0)} ms`);
    assert.equal(run.stderr.replace(/^warning: .*\n/gm, ''), '');
  });
});
