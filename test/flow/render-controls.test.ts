/**
 * Regression: `flowtrace analyze` printed the capture's own text raw. A request sent to the
 * server as `GET \x1b[2J/x` (any client can send one) cleared the terminal of whoever later
 * analysed the capture — and an escape sequence can do worse (retitle, hide lines, OSC 52).
 * Now every text line is printable: controls are written as \xNN; a line break inside a field
 * cannot add a line that looks like flowtrace's. The capture is crafted-rst.pcap with the
 * 6 bytes `/crash` of its request line replaced by ESC `[2J/x` (same length, every copy).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { analyzeCapture, renderAnalysis } from '../../src/flow/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'flow');

function hostileCapture(): Buffer {
  const bytes = readFileSync(path.join(DATA, 'crafted-rst.pcap'));
  const from = Buffer.from('GET /crash');
  const to = Buffer.from('GET \x1b[2J/x', 'latin1');
  let copies = 0;
  for (let at = bytes.indexOf(from); at >= 0; at = bytes.indexOf(from, at + 1)) { to.copy(bytes, at); copies++; }
  assert.equal(copies, 3); // the request seen on ens5, docker0 and the veth
  return bytes;
}

test('an escape sequence in a request target is printed as \\x1b, not sent to the terminal', async () => {
  const io = memoryIO(Readable.from([hostileCapture()]));
  const code = await main(['analyze', '-'], io);
  const out = io.out.join('');
  assert.equal(code, 0, io.err.join(''));
  assert.doesNotMatch(out, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  assert.match(out, /exchange 1 {2}GET \\x1b\[2J\/x → reset/);
});

test('a line break inside a field stays inside its line', async () => {
  const { analysis } = await analyzeCapture(Readable.from([hostileCapture()]));
  const ex = analysis.exchanges[0];
  assert.ok(ex.request);
  ex.request.host = 'app.example\nanomalies: none';
  const text = renderAnalysis(analysis);
  assert.match(text, /Host app\.example\\x0aanomalies: none/);
  assert.equal(text.split('\n').filter((l) => l.startsWith('anomalies:')).length, 1);
});
