/** HOST → addresses: literals (with brackets), the family filter, duplicates, failures. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveTargets } from '../../src/trace/resolve.js';

const fixed = (addresses: string[]) => async () => addresses;

test('an address is used as is, in canonical form; a bracketed IPv6 address too', async () => {
  assert.deepEqual(await resolveTargets('10.77.1.10', undefined, fixed([])), ['10.77.1.10']);
  assert.deepEqual(await resolveTargets('[FD00:0::1]', undefined, fixed([])), ['fd00::1']);
  assert.deepEqual(await resolveTargets('fd00::1', 6, fixed([])), ['fd00::1']);
});

test('a name: every address once, in the resolver\'s order, filtered by family', async () => {
  const r = fixed(['10.77.2.10', '10.77.1.10', 'FD00::10', '10.77.2.10']);
  assert.deepEqual(await resolveTargets('seqas.online', undefined, r), ['10.77.2.10', '10.77.1.10', 'fd00::10']);
  assert.deepEqual(await resolveTargets('seqas.online', 4, r), ['10.77.2.10', '10.77.1.10']);
  assert.deepEqual(await resolveTargets('seqas.online', 6, r), ['fd00::10']);
});

test('no address of the asked family, or a literal of the other family: errors with hints', async () => {
  await assert.rejects(resolveTargets('seqas.online', 6, fixed(['10.77.1.10'])), (e: Error & { code?: string; hint?: string }) =>
    e.code === 'UNKNOWN_HOST' && /has no IPv6 address/.test(e.message) && /flowtrace dns seqas\.online/.test(e.hint ?? ''));
  await assert.rejects(resolveTargets('fd00::1', 4, fixed([])), (e: Error & { code?: string }) => e.code === 'FAMILY_MISMATCH');
});

test('an empty HOST or a URL is a usage error before any lookup; no address at all says so plainly', async () => {
  let asked = 0;
  const counting = async (): Promise<string[]> => { asked++; return ['10.77.1.10']; };
  for (const bad of ['', '  ', 'http://seqas.online/', 'seqas.online/path', 'seqas online']) {
    await assert.rejects(resolveTargets(bad, undefined, counting), (e: Error & { code?: string; exitCode?: number; hint?: string }) =>
      e.code === 'USAGE' && e.exitCode === 2 && /^bad HOST/.test(e.message) && typeof e.hint === 'string', `'${bad}'`);
  }
  assert.equal(asked, 0, 'the resolver is not asked');
  await assert.rejects(resolveTargets('seqas.online', undefined, fixed([])), (e: Error & { code?: string }) => e.code === 'UNKNOWN_HOST' && e.message === 'seqas.online has no address');
});
