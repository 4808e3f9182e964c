import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';

test('unknown command: one-line error with a hint and the usage exit code', async () => {
  const io = memoryIO();
  const code = await main(['frobnicate'], io);
  assert.equal(code, EXIT.usage);
  assert.match(io.err.join(''), /^error\[USAGE\]: unknown command 'frobnicate'\nhint: /);
});

test('help lists every command', async () => {
  const io = memoryIO();
  assert.equal(await main(['help'], io), EXIT.ok);
  for (const c of ['read', 'analyze', 'lab', 'follow', 'demo']) assert.match(io.out.join(''), new RegExp(`\\b${c}\\b`));
});
