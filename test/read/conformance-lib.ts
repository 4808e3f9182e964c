/**
 * The tcpdump test corpus as an oracle (../shared/corpus/tcpdump, README there): each test
 * is `name capture expected-output flags`; the .out is what `tcpdump -# -n -r CAPTURE -tttt
 * FLAGS` printed with TZ=GMT0 (without -tttt when FLAGS contain SPECIAL_t).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PassThrough } from 'node:stream';
import { run } from '../../src/cli/commands/read.js';
import type { CliIO } from '../../src/cli/io.js';
import { TCPDUMP_CORPUS as CORPUS_TESTS } from '../helpers/corpus.js';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../..');
export { CORPUS_TESTS };
export const ELIGIBLE_LIST = join(here, 'conformance-eligible.txt');

export interface CorpusTest {
  name: string;
  capture: string;
  expected: string;
  flags: string[];
}

export function readTestList(): CorpusTest[] {
  const tests: CorpusTest[] = [];
  for (const raw of readFileSync(join(CORPUS_TESTS, 'TESTLIST'), 'utf8').split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const [name, capture, expected, ...flags] = line.split(/\s+/);
    if (!name || !capture || !expected) continue;
    tests.push({ name, capture, expected, flags });
  }
  return tests;
}

/** tcpdump flags flowtrace read supports (anything else makes a test ineligible). */
/** Short flags may be grouped as tcpdump allows (-ev, -vvv); node's parseArgs splits them the same way. */
const SUPPORTED_FLAG = /^(-[qtSegvnxXA]+|--nano|SPECIAL_t)$/;

/** Our argv for a corpus test, or null when it uses a flag we do not support. */
export function readArgsFor(test: CorpusTest): string[] | null {
  const args: string[] = [join(CORPUS_TESTS, test.capture), '-#'];
  const flags = test.flags;
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    if (f === '-T' && flags[i + 1] === 'domain') {
      args.push('-T', flags[++i]);
      continue;
    }
    if ((f === '-c' || f === '--skip') && /^[0-9]+$/.test(flags[i + 1] ?? '')) {
      args.push(f, flags[++i]);
      continue;
    }
    if (!SUPPORTED_FLAG.test(f)) return null;
    if (f === 'SPECIAL_t' || f === '-n' || f === '-nn') continue;
    args.push(f);
  }
  if (!flags.includes('SPECIAL_t')) args.push('-tttt');
  return args;
}

export interface Comparison {
  identical: boolean;
  firstDifference: string | null;
  exitCode: number;
}

/** Runs `flowtrace read` in-process on a corpus test and compares with the .out, line by line. */
export async function compareWithTcpdump(test: CorpusTest): Promise<Comparison> {
  const args = readArgsFor(test);
  if (args === null) throw new Error(`${test.name}: unsupported flags ${test.flags.join(' ')}`);
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    stdout: (t) => { out.push(t); },
    stderr: (t) => { err.push(t); },
    isTTY: false,
    stdin: new PassThrough(),
    env: { ...process.env, TZ: 'GMT0' },
    cwd: REPO,
    onInterrupt: () => () => {},
  };
  let exitCode: number;
  try {
    exitCode = await run(args, io);
  } catch (e) {
    exitCode = -1;
    err.push(String((e as Error).message));
  }
  const ours = out.join('').split('\n');
  const theirs = readFileSync(join(CORPUS_TESTS, test.expected), 'utf8').split('\n');
  if (ours[ours.length - 1] === '') ours.pop();
  if (theirs[theirs.length - 1] === '') theirs.pop();
  for (let i = 0; i < Math.max(ours.length, theirs.length); i++) {
    if (ours[i] !== theirs[i]) {
      return {
        identical: false,
        firstDifference: `line ${i + 1}:\n  tcpdump:   ${theirs[i] ?? '<no line>'}\n  flowtrace: ${ours[i] ?? '<no line>'}${err.length ? `\n  stderr: ${err.join('').trim()}` : ''}`,
        exitCode,
      };
    }
  }
  return { identical: true, firstDifference: null, exitCode };
}

export function readEligibleList(): string[] {
  return readFileSync(ELIGIBLE_LIST, 'utf8').split('\n').map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l !== '');
}
