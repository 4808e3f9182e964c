/**
 * Regression: `flowtrace capture -i lo -nn …` (tcpdump's habit) was a usage error. -n, -nn
 * and -l are now taken and change nothing (no names are resolved; each line is written as
 * its packet comes). Needs root for the capture on lo.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';

const isRoot = process.getuid?.() === 0;

test('capture -nn -l on lo captures and analyses like without them', { skip: isRoot ? false : 'needs root (live capture on lo)' }, async () => {
  const io = memoryIO();
  const code = await main(['capture', '-i', 'lo', '-nn', '-l', '--for', '300ms', '--json', 'port', '9'], io);
  assert.equal(code, 0, io.err.join(''));
  const doc = JSON.parse(io.out.join('')) as { schema: string; stoppedBy: string; filter: { requested: string } };
  assert.equal(doc.schema, 'flowtrace.capture/1');
  assert.equal(doc.stoppedBy, 'duration');
  assert.equal(doc.filter.requested, 'port 9');
});
