/**
 * `flowtrace lab exec NODE -- CMD`: exits with CMD's code, and with 128 + the signal's number
 * when CMD is killed by a signal, as a shell reports it (it was 1 for every signal but SIGINT);
 * `flowtrace` as CMD is this flowtrace, whether it is on PATH or not.
 * Root only: it needs the lab (built here unless someone else's is up; left as found).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { labUp, labDown, LAB } from '../../src/lab/index.js';
import { selfCliArgv, PACKAGE_ROOT } from '../../src/self.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const skip = isRoot ? false : 'needs root: the lab is built from network namespaces';

function exec(cmd: string[]): number | null {
  const argv = [...selfCliArgv(), 'lab', 'exec', 'client', '--', ...cmd];
  return spawnSync(argv[0]!, argv.slice(1), { cwd: PACKAGE_ROOT, stdio: 'ignore', timeout: 60_000 }).status;
}

test("lab exec: the command's exit code, or 128 + the signal that killed it", { skip }, async () => {
  const s = await labUp();
  try {
    assert.equal(exec(['true']), 0);
    assert.equal(exec(['sh', '-c', 'exit 3']), 3);
    assert.equal(exec(['sh', '-c', 'kill -TERM $$']), 143);
    assert.equal(exec(['sh', '-c', 'kill -KILL $$']), 137);
    assert.equal(exec(['sh', '-c', 'kill -INT $$']), 130);
    // `flowtrace` is this flowtrace, on PATH or not; it runs inside the node (the lab's resolver).
    const argv = [...selfCliArgv(), 'lab', 'exec', 'client', '--', 'flowtrace', 'dns', 'seqas.online', '--type', 'A', '+short'];
    const r = spawnSync(argv[0]!, argv.slice(1), { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), [LAB.albA.public, LAB.albB.public].sort());
  } finally {
    if (!s.alreadyUp) await labDown();
  }
});
