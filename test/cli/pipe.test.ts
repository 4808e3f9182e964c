import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateHttpCapture } from '../../bench/gen-http-capture.js';
import { selfCliArgv } from '../../src/self.js';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

test('a reader that stops early (| head) ends flowtrace quietly: exit 0, nothing on stderr', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ft-pipe-'));
  try {
    const file = path.join(dir, 'http.pcap');
    // 20 k packets: megabytes of output, far more than a pipe holds.
    generateHttpCapture({ exchanges: 2000, out: file, seed: 7 });
    for (const args of [['read', file], ['analyze', file, '--max-kept', '5000'], ['analyze', file, '--json']]) {
      const cli = [...selfCliArgv(), ...args].map(quote).join(' ');
      const r = spawnSync('bash', ['-c', `set -o pipefail; ${cli} 2>${quote(path.join(dir, 'err'))} | head -c 100 >/dev/null; echo "status=$?"; cat ${quote(path.join(dir, 'err'))}`], { encoding: 'utf8' });
      assert.match(r.stdout, /^status=0\n/, `${args.join(' ')}: ${r.stdout}`);
      assert.doesNotMatch(r.stdout, /EPIPE|Error|at /, `${args.join(' ')} printed to stderr: ${r.stdout}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
