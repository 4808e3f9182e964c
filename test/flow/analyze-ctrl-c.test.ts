/**
 * Regression: `tcpdump -i any -U -w - port 80 | flowtrace analyze -` then Ctrl-C printed
 * `error[INTERRUPTED]` and no analysis at all: the whole point of the pipe was lost. Now the
 * first Ctrl-C ends the input and the analysis of what was read is printed (exit 0, as
 * `flowtrace capture` on stop); a second Ctrl-C aborts (130). A file is still aborted at once.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'flow');
const RST = readFileSync(path.join(DATA, 'crafted-rst.pcap'));

/** analyze - with a stdin that stays open (a live tcpdump), and a Ctrl-C we press by hand. */
function analyzeFromPipe(args: string[] = []) {
  const stdin = new PassThrough();
  const io = memoryIO(stdin);
  const handlers: Array<() => void> = [];
  let registered!: () => void;
  /** Settles when the command listens for Ctrl-C. */
  const listening = new Promise<void>((resolve) => { registered = resolve; });
  io.onInterrupt = (h) => { handlers.push(h); registered(); return () => { handlers.splice(handlers.indexOf(h), 1); }; };
  const done = main(['analyze', '-', ...args], io);
  return { stdin, io, done, listening, ctrlC: () => { for (const h of [...handlers]) h(); } };
}

describe('Ctrl-C on analyze -', () => {
  for (const filter of [[], ['tcp']]) {
    it(`ends the input and prints the analysis of what was read${filter.length ? ' (with a FILTER)' : ''}`, async () => {
      const p = analyzeFromPipe(filter);
      p.stdin.write(RST); // the writer stays open
      await p.listening;
      p.ctrlC();
      const code = await p.done;
      const err = p.io.err.join('');
      assert.equal(code, 0, err);
      assert.match(err, /^flowtrace: Ctrl-C: analysing what was read so far \(Ctrl-C again to stop\)$/m);
      assert.doesNotMatch(err, /INTERRUPTED/);
      const out = p.io.out.join('');
      assert.match(out, /^capture: 18 packets \(18 TCP\)/);
      assert.match(out, /GET \/crash → reset/);
    });
  }

  it('a record cut by Ctrl-C is a warning, not a damaged capture (exit 0)', async () => {
    const p = analyzeFromPipe();
    p.stdin.write(RST.subarray(0, RST.length - 10)); // the last record is not complete yet
    await p.listening;
    p.ctrlC();
    const code = await p.done;
    const err = p.io.err.join('');
    assert.equal(code, 0, err);
    assert.match(err, /warning: Ctrl-C ended the input inside a record; the analysis above covers the 17 packets before it/);
    assert.doesNotMatch(err, /error\[/);
  });

  it('a second Ctrl-C aborts: 130', async () => {
    const p = analyzeFromPipe(['tcp']);
    p.stdin.write(RST);
    await p.listening;
    p.ctrlC();
    p.ctrlC();
    const code = await p.done;
    assert.equal(code, 130, p.io.err.join(''));
  });
});
