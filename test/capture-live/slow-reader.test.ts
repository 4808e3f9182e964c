/**
 * Regression: `flowtrace capture … | less` printed each packet's line without waiting for
 * stdout, so with a reader slower than the traffic every line queued in memory. Now the
 * capture reads tcpdump's stream only as fast as stdout takes the lines (the `pace` of
 * `read`: CliIO.stdoutDrained), and packets wait in tcpdump and the kernel ring.
 * The session is checked with a scripted engine (a real tcpdump capture replayed,
 * test/data/capture-live/ec2-any.pcap); the command with a real tcpdump on lo (root;
 * skipped otherwise, saying so).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import dgram from 'node:dgram';
import { PassThrough } from 'node:stream';
import { startCapture, parseIpLinkJson, type CaptureEngine, type EngineExit } from '../../src/capture/live/index.js';
import { run } from '../../src/cli/commands/capture.js';
import { memoryIO } from '../../src/cli/io.js';

const PCAP = fs.readFileSync(new URL('../data/capture-live/ec2-any.pcap', import.meta.url));
const LINKS = parseIpLinkJson(fs.readFileSync(new URL('../data/capture-live/ec2-any.links.json', import.meta.url), 'utf8'));
const PCAP_HEADER_BYTES = 24;
const PORT = 39_531;
/** Only turns a hang into a failure. */
const HANG_BOUND_MS = 20_000;

/** Writes the pcap header with the first packet, then one packet per chunk, all at once. */
function scriptedEngine(): CaptureEngine & { stops: number } {
  const e = {
    stops: 0,
    start() {
      const output = new PassThrough();
      let resolveExit!: (x: EngineExit) => void;
      const exited = new Promise<EngineExit>((r) => { resolveExit = r; });
      setImmediate(() => {
        let at = PCAP_HEADER_BYTES;
        let first = true;
        while (at < PCAP.length) {
          const end = at + 16 + PCAP.readUInt32LE(at + 8);
          output.write(Buffer.from(PCAP.subarray(first ? 0 : at, end)));
          first = false;
          at = end;
        }
      });
      return {
        pid: 4242, argv: ['scripted'], output, ready: Promise.resolve(), exited,
        stop() { e.stops++; setImmediate(() => { output.end(); resolveExit({ code: 0, signal: null, stderr: '', stats: null }); }); },
      };
    },
  };
  return e;
}

const turns = async (n: number): Promise<void> => { for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r)); };

test('a pace that holds: no packet is read from the engine until it resolves; then all are', async () => {
  let seen = 0;
  let release!: () => void;
  let held = 0;
  const cap = await startCapture({
    engine: scriptedEngine(), links: LINKS, attribute: false, natRulesText: '', live: true,
    onPacket: () => { seen++; },
    pace: () => { held++; return held === 1 ? new Promise<void>((r) => { release = r; }) : undefined; },
  });
  for (let i = 0; i < 200 && seen === 0; i++) await turns(1);
  assert.equal(seen, 1, 'the first chunk (one packet) was read');
  await turns(50);
  assert.equal(seen, 1, 'nothing more is read while the pace holds');
  release();
  for (let i = 0; i < 500 && seen < 30; i++) await turns(1);
  assert.equal(seen, 30);
  const r = await cap.stop();
  assert.equal(r.packetCount, 30);
  assert.equal(r.packets.length, 30);
});

test('stopping while the pace holds: the stop does not wait for the reader', async () => {
  let seen = 0;
  const cap = await startCapture({
    engine: scriptedEngine(), links: LINKS, attribute: false, natRulesText: '', live: true,
    onPacket: () => { seen++; },
    pace: () => new Promise<void>(() => { /* a reader that never reads */ }),
  });
  for (let i = 0; i < 200 && seen === 0; i++) await turns(1);
  assert.equal(seen, 1);
  const r = await cap.stop();
  assert.equal(r.stoppedBy, 'stop');
  assert.equal(r.packetCount, 30, 'what the engine wrote is still read on the way out');
});

test('flowtrace capture waits for stdout between packets (| less): no line is printed while stdout is full', { skip: process.getuid?.() === 0 ? false : 'needs root (live capture on lo)', timeout: 60_000 }, async () => {
  const io = memoryIO();
  /** Packet lines (`HH:MM:SS.ffffff lo In IP …`), not the analysis printed at the end. */
  const lines = (): number => io.out.join('').split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d+ lo /.test(l)).length;
  let release!: () => void;
  const released = new Promise<void>((r) => { release = r; });
  let asked = 0;
  let linesWhenFull = -1;
  // stdout is full once the first line is in it (a pager showing its first screen).
  io.stdoutDrained = () => {
    if (io.out.length === 0) return Promise.resolve();
    asked++;
    if (linesWhenFull < 0) linesWhenFull = lines();
    return released;
  };
  let interrupt: (() => void) | null = null;
  io.onInterrupt = (handler) => { interrupt = handler; return () => { interrupt = null; }; };
  const sock = dgram.createSocket('udp4');
  // No -c: tcpdump exiting by itself would have Node flush its stdout regardless of the pace.
  const done = run(['-i', 'lo', 'udp', 'port', String(PORT)], io);
  const giveUpAt = performance.now() + HANG_BOUND_MS;
  const until = async (what: string, ok: () => boolean): Promise<void> => {
    while (!ok()) {
      assert.ok(performance.now() < giveUpAt, `${what}: ${io.err.join('')}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  try {
    await until('the capture did not start', () => /Ctrl-C to stop/.test(io.err.join('')));
    sock.send('first', PORT, '127.0.0.1');
    await until('stdoutDrained was never asked', () => asked > 0);
    for (let i = 1; i <= 5; i++) sock.send(`more ${i}`, PORT, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 300)); // time for lines to appear if nothing held them
    assert.equal(lines(), linesWhenFull, 'no line printed while stdout is full');
    assert.equal(linesWhenFull, 1);
  } finally {
    release();
    sock.close();
  }
  // The reader takes more: the packets waiting in tcpdump come through.
  await until('the held packets were not printed after stdout drained', () => lines() === 6);
  interrupt!();
  assert.equal(await done, 0, io.err.join(''));
  assert.equal(lines(), 6, io.out.join(''));
});
