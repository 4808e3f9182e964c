/**
 * `flowtrace lab exec NODE -- CMD`: exits with CMD's code, and with 128 + the signal's number
 * when CMD is killed by a signal, as a shell reports it (it was 1 for every signal but SIGINT);
 * `flowtrace` as CMD is this flowtrace, whether it is on PATH or not.
 * A CMD that cannot be run is what a shell says it is: 127 not found, 126 not executable, with
 * one flowtrace error line naming the command and the node (it was ip's "exec of … failed", 1).
 * Root only: it needs the lab (built here unless someone else's is up; left as found).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labUp, labDown, LAB, type LabStatus } from '../../src/lab/index.js';
import { selfCliArgv, PACKAGE_ROOT } from '../../src/self.js';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const skip = isRoot ? false : 'needs root: the lab is built from network namespaces';

function exec(cmd: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  const argv = [...selfCliArgv(), 'lab', 'exec', 'client', '--', ...cmd];
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: PACKAGE_ROOT, encoding: 'utf8', env, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('lab exec', { skip }, () => {
  let s: LabStatus | undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'fttcli-'));
  before(async () => { s = await labUp(); });
  after(async () => {
    rmSync(tmp, { recursive: true, force: true });
    if (s !== undefined && s.alreadyUp !== true) await labDown();
  });

  it("the command's exit code, or 128 + the signal that killed it", () => {
    assert.equal(exec(['true']).status, 0);
    assert.equal(exec(['sh', '-c', 'exit 3']).status, 3);
    assert.equal(exec(['sh', '-c', 'kill -TERM $$']).status, 143);
    assert.equal(exec(['sh', '-c', 'kill -KILL $$']).status, 137);
    assert.equal(exec(['sh', '-c', 'kill -INT $$']).status, 130);
    // `flowtrace` is this flowtrace, on PATH or not; it runs inside the node (the lab's resolver).
    const r = exec(['flowtrace', 'dns', 'seqas.online', '--type', 'A', '+short']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), [LAB.albA.public, LAB.albB.public].sort());
  });

  it('a command not found: 127 and one error line naming it and the node', () => {
    const r = exec(['ftt-no-such-command', '--flag']);
    assert.equal(r.status, 127, r.stderr);
    assert.match(r.stderr, /^error\[COMMAND_NOT_FOUND\]: lab exec: ftt-no-such-command: command not found \(in node client\)\nhint: [^\n]+\n$/);
    const missingPath = exec([join(tmp, 'absent')]);
    assert.equal(missingPath.status, 127, missingPath.stderr);
    assert.match(missingPath.stderr, /^error\[COMMAND_NOT_FOUND\]: lab exec: \S+absent: no such file \(in node client\)\nhint: [^\n]+\n$/);
  });

  it('a file that is not executable, or a directory: 126 and one error line', () => {
    const script = join(tmp, 'script.sh');
    writeFileSync(script, 'echo hi\n');
    chmodSync(script, 0o644);
    const r = exec([script]);
    assert.equal(r.status, 126, r.stderr);
    assert.match(r.stderr, /^error\[COMMAND_NOT_EXECUTABLE\]: lab exec: \S+script\.sh: permission denied \(not executable\) \(in node client\)\nhint: [^\n]*chmod \+x[^\n]*\n$/);
    const dir = exec([tmp]);
    assert.equal(dir.status, 126, dir.stderr);
    assert.match(dir.stderr, /^error\[COMMAND_NOT_EXECUTABLE\]: lab exec: \S+: is a directory \(in node client\)\n/);
    // Found on PATH but not executable: a shell says 126 too, not 127.
    const onPath = exec(['script.sh'], { ...process.env, PATH: `${tmp}:${process.env.PATH ?? ''}` });
    assert.equal(onPath.status, 126, onPath.stderr);
    assert.match(onPath.stderr, /^error\[COMMAND_NOT_EXECUTABLE\]: lab exec: script\.sh: permission denied/);
  });
});
