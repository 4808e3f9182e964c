/**
 * parseHttpHead's strings: the same text as Node's Latin-1 decoding of the bytes (all 256
 * byte values, Buffer or plain Uint8Array), and each one flat — made in one go, not built
 * char by char into a chain of cons strings (checked with V8's %DebugPrint in a child).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { httpHeader, parseHttpHead } from '../../src/decode/index.js';

const CHILD = fileURLToPath(new URL('./http-strings-child.ts', import.meta.url));

describe('parseHttpHead strings', () => {
  it('are the Latin-1 text of the bytes, every byte value, at every length', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i).filter((b) => b !== 0x0a && b !== 0x0d));
    for (let n = 0; n <= all.length; n += 7) {
      const value = all.subarray(0, n);
      // Leading/trailing SP and HTAB are trimmed from a value; keep them out of the comparison.
      const expected = value.toString('latin1').replace(/^[ \t]+|[ \t]+$/g, '');
      const head = Buffer.concat([Buffer.from('GET /x HTTP/1.1\r\nX-Bytes: ', 'latin1'), value, Buffer.from('\r\n\r\n', 'latin1')]);
      for (const d of [head, new Uint8Array(head)]) {
        const h = parseHttpHead(d, 0, d.length);
        assert.equal(h.complete, true);
        assert.equal(httpHeader(h, 'x-bytes'), expected, `value of ${n} bytes`);
      }
    }
  });

  it('read only the bytes there are when the length given runs past them', () => {
    const d = Buffer.from('GET /abcdefghijklmnopq HTTP/1.1', 'latin1');
    const h = parseHttpHead(d, 0, d.length + 100);
    assert.equal(h.target, '/abcdefghijklmnopq');
    assert.equal(h.version, 'HTTP/1.1');
    assert.equal(h.complete, false);
  });

  it('are flat strings, none built piece by piece', () => {
    // %DebugPrint writes with C stdio, which drops what a non-blocking pipe refuses: its
    // output goes to a file instead.
    const dir = mkdtempSync(join(tmpdir(), 'ftt-decode-'));
    let stdout: string;
    try {
      const out = openSync(join(dir, 'debug-print.txt'), 'w');
      let r;
      try {
        r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', CHILD], { stdio: ['ignore', out, 'pipe'], encoding: 'utf8' });
      } finally {
        closeSync(out);
      }
      assert.equal(r.status, 0, r.stderr);
      stdout = readFileSync(join(dir, 'debug-print.txt'), 'utf8');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const types = [...stdout.matchAll(/^ - type: (\S+)$/gm)].map((m) => m[1]);
    // request: 3 first-line pieces + 40 headers × 2; response: 2 + 1 × 2; each head parsed twice.
    assert.equal(types.length, 2 * (3 + 80) + 2 * (2 + 2), stdout.slice(0, 2000));
    const notFlat = types.filter((t) => !/^ONE_BYTE_(INTERNALIZED_)?STRING_TYPE$/.test(t));
    assert.deepEqual(notFlat, [], 'every string is a sequential one-byte string');
  });
});
