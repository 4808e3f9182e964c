/**
 * `flowtrace demo --out DIR` that cannot be created: one INPUT error (exit 3) before the lab
 * is built — it used to build the lab, run both walks and end in error[INTERNAL] (or, under
 * /proc, spin forever in Node's recursive mkdir where Ctrl-C could not stop it).
 * Root only: the privilege check comes first.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync, existsSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const skip = isRoot ? false : 'needs root (demo refuses earlier without it)';
const dir = mkdtempSync(path.join(os.tmpdir(), 'ftt-demo-out-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('--out under a regular file, or where mkdir is refused: exit 3 before the lab is built', { skip }, async () => {
  writeFileSync(path.join(dir, 'a-file'), 'x');
  for (const [out, code] of [[path.join(dir, 'a-file', 'reports'), 'ENOTDIR'], [path.join(dir, 'a-file'), 'ENOTDIR'], ['/sys/ftt-demo-out/reports', 'EPERM']] as const) {
    const io = memoryIO();
    const exit = await main(['demo', '--no-https', '--out', out], io);
    assert.equal(exit, EXIT.input, io.err.join(''));
    assert.equal(io.err.join(''), `error[INPUT]: cannot create the report folder ${out}: ${code}\nhint: give a folder you can write: --out /tmp/flowtrace-demo\n`);
    assert.doesNotMatch(io.out.join(''), /building the lab/);
  }
});

test('a missing --out folder is created, parents included, before the lab is needed', { skip }, async () => {
  // Only the folder step is checked here: the demo itself is test/follow/demo.test.ts.
  const { createFolder } = await import('../../src/cli/commands/demo.js');
  const nested = path.join(dir, 'x', 'y', 'z');
  createFolder(nested);
  assert.ok(statSync(nested).isDirectory());
  createFolder(nested); // again: already there
  assert.ok(existsSync(nested));
  assert.throws(() => createFolder('/proc/ftt-demo-out/x'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT', '/proc: an error, not an endless loop');
});
