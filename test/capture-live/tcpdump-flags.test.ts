/**
 * Regression: `flowtrace capture -i lo -nn …` (tcpdump's habit) was a usage error. -n, -nn
 * and -l are now taken and change nothing (no names are resolved; each line is written as
 * its packet comes). Also -i: `-i ','` named no interface and silently captured everything;
 * `-i lo -i lo` captured 'ifindex 1 or ifindex 1'. Needs root for the captures on lo.
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

test('-i that names no interface is a usage error, not a silent -i any', async () => {
  for (const names of [[','], ['', ' , ']]) {
    const io = memoryIO();
    const code = await main(['capture', ...names.flatMap((n) => ['-i', n]), '--for', '300ms'], io);
    assert.equal(code, 2, io.err.join(''));
    assert.match(io.err.join(''), /^error\[USAGE\]: -i '[^']*' names no interface\nhint: e\.g\. -i ens5/);
  }
});

test('-i lo -i lo,lo captures on lo once', { skip: isRoot ? false : 'needs root (live capture on lo)' }, async () => {
  const io = memoryIO();
  const code = await main(['capture', '-i', 'lo', '-i', 'lo,lo', '--for', '300ms', '--json'], io);
  assert.equal(code, 0, io.err.join(''));
  const doc = JSON.parse(io.out.join('')) as { interfaces: string[]; filter: { effective: string } };
  assert.deepEqual(doc.interfaces, ['lo']);
  assert.equal(doc.filter.effective, 'ifindex 1');
});
