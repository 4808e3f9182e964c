/**
 * Hostile input: `flowtrace read` (reader, decoder and printer, with and without -e) on every
 * one of the corpus captures (../shared/corpus/tcpdump/tests: many were made to crash
 * dissectors). Each run ends with packets printed and exit 0, or a clear one-line error /
 * truncation warning and exit 3 — never an internal error, an exception or a hang.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { it } from 'node:test';
import { run } from '../../src/cli/commands/read.js';
import type { CliIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';
import { CORPUS_TESTS, REPO } from './conformance-lib.js';
import { requireCorpus } from '../helpers/corpus.js';

it('every corpus capture reads to the end or to a clear error', { timeout: 600_000 }, async (t) => {
  requireCorpus();
  const captures = readdirSync(CORPUS_TESTS).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();
  let printed = 0;
  let clearErrors = 0;
  let lines = 0;
  const problems: string[] = [];
  for (const [i, capture] of captures.entries()) {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIO = {
      stdout: (t) => { out.push(t); }, stderr: (t) => { err.push(t); }, isTTY: false, stdin: new PassThrough(),
      env: process.env, cwd: REPO, onInterrupt: () => () => {},
    };
    const args = [join(CORPUS_TESTS, capture), '-#', ...(i % 2 === 0 ? ['-e'] : ['-tttt'])];
    let code: number;
    try {
      code = await run(args, io);
    } catch (e) {
      const fe = e as { code?: string; exitCode?: number; message: string };
      if (typeof fe.code === 'string' && fe.exitCode === EXIT.input) { clearErrors++; continue; }
      problems.push(`${capture}: threw ${fe.message}`);
      continue;
    }
    const stderr = err.join('');
    if (code === EXIT.ok) printed++;
    else if (code === EXIT.input && /^warning: /.test(stderr)) { printed++; clearErrors++; }
    else problems.push(`${capture}: exit ${code} ${stderr.trim()}`);
    const text = out.join('');
    lines += text === '' ? 0 : text.split('\n').length - 1;
  }
  t.diagnostic(`corpus: ${captures.length} captures, read ${printed}, clear errors ${clearErrors}, lines printed ${lines}, crashes ${problems.length}`);
  assert.deepEqual(problems, []);
  assert.ok(captures.length >= 800, `only ${captures.length} captures found`);
});
