/**
 * Regression: `flowtrace capture -w /tmp` (a directory) or a -w path where no file can be made
 * ran the whole capture, then died with error[INTERNAL] (EISDIR/ENOENT, exit 70) and lost the
 * analysis. Now -w is checked first, as tcpdump opens its file first: INPUT, exit 3, before
 * tcpdump starts; nothing existing is changed and no file is left behind by the check.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'fttcapture-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const isRoot = process.getuid?.() === 0;

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = memoryIO();
  const code = await main(args, io);
  return { code, out: io.out.join(''), err: io.err.join('') };
}

describe('capture -w: a place no file can be written is refused before capturing', () => {
  it('-w DIRECTORY', async () => {
    const r = await cli(['capture', '-i', 'lo', '--for', '1s', '-w', tmp]);
    assert.equal(r.code, 3, r.err);
    assert.equal(r.err, `error[INPUT]: cannot write ${tmp}: it is a directory\nhint: give -w a file in a writable directory, e.g. -w /tmp/capture.pcapng\n`);
    assert.doesNotMatch(r.err, /capturing on/); // refused before tcpdump started
  });

  it('-w in /proc (no file can be made there)', async () => {
    const r = await cli(['capture', '-i', 'lo', '--for', '1s', '-w', '/proc/fttcapture.pcapng']);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /^error\[INPUT\]: cannot write \/proc\/fttcapture\.pcapng: [^\n]+\nhint: [^\n]+\n$/);
  });

  it('the check leaves an existing file as it was, and creates none', { skip: isRoot ? false : 'needs root (live capture on lo)' }, async () => {
    const kept = path.join(tmp, 'kept.pcapng');
    writeFileSync(kept, 'old');
    // A usage error after the -w check: nothing is captured, the file must be untouched.
    const r = await cli(['capture', '-i', 'lo', '--for', '1s', '-w', kept, '--netns', 'fttcapture-no-such-ns']);
    assert.notEqual(r.code, 0);
    assert.equal(readFileSync(kept, 'utf8'), 'old');
    const fresh = path.join(tmp, 'fresh.pcapng');
    await cli(['capture', '-i', 'lo', '--for', '1s', '-w', fresh, '--netns', 'fttcapture-no-such-ns']);
    assert.equal(existsSync(fresh), false);
  });
});
