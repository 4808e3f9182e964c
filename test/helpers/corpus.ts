/**
 * Where tcpdump's test corpus is: ../shared/corpus/tcpdump/tests beside the repository (how
 * CI lays it out). For a clone made elsewhere (`git clone . /tmp/x`), beside the repository it
 * was cloned from. FLOWTRACE_TCPDUMP_CORPUS overrides both. Every test that reads the corpus
 * goes through here; a missing corpus fails those tests with this message (it is not skipped).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BESIDE = path.join('shared', 'corpus', 'tcpdump', 'tests');

function originCheckout(): string | null {
  try {
    const url = execFileSync('git', ['-C', REPO, 'config', '--get', 'remote.origin.url'], { encoding: 'utf8' }).trim();
    return url.startsWith('/') ? url.replace(/\/\.git\/?$/, '') : null;
  } catch {
    return null;
  }
}

function locate(): string {
  const candidates = [
    process.env.FLOWTRACE_TCPDUMP_CORPUS,
    path.resolve(REPO, '..', BESIDE),
    ((o) => (o === null ? undefined : path.resolve(o, '..', BESIDE)))(originCheckout()),
  ].filter((c): c is string => c !== undefined && c !== '');
  return candidates.find((c) => existsSync(path.join(c, 'TESTLIST'))) ?? candidates[1]!;
}

/** The corpus's tests/ folder (captures, .out files, TESTLIST). */
export const TCPDUMP_CORPUS = locate();

/** Throws a one-line explanation when the corpus is not there. */
export function requireCorpus(): void {
  if (!existsSync(path.join(TCPDUMP_CORPUS, 'TESTLIST'))) {
    throw new Error(`tcpdump's test corpus is not at ${TCPDUMP_CORPUS}: keep shared/ beside the repository, or set FLOWTRACE_TCPDUMP_CORPUS`);
  }
}
