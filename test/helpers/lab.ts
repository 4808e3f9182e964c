/**
 * The lab for a test file (root only): the one way test files take the shared replica.
 * Taken (or built) before the file's tests, with no fault on; faults healed after, and taken
 * down if this file built it (another run's lab, left up, stays up). Called inside a
 * describe(), the hooks are that suite's.
 */
import { before, after } from 'node:test';
import { healFault, labDown, labUp } from '../../src/lab/index.js';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

export function useLab(): void {
  let builtByUs = false;
  before(async () => {
    if (!isRoot) return;
    const s = await labUp();
    builtByUs = !s.alreadyUp;
    await healFault();
  });
  after(async () => {
    if (!isRoot) return;
    await healFault().catch(() => {});
    if (builtByUs) await labDown();
  });
}
