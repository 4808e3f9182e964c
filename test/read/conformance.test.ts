/**
 * tcpdump conformance: for every corpus test in conformance-eligible.txt (made by
 * find-eligible.ts), `flowtrace read` with the same flags prints exactly tcpdump's .out
 * lines. Reports `identical X / eligible Y` and the first differing line of each failure;
 * fails below IDENTICAL_FLOOR, and when any test named by issue 2 differs.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { compareWithTcpdump, readEligibleList, readTestList } from './conformance-lib.js';
import { requireCorpus } from '../helpers/corpus.js';
import { REQUIRED_TESTS } from './find-eligible.js';

/** Raised as the printer improves: every eligible test is identical (105 of 105). */
const IDENTICAL_FLOOR = 1;

it('flowtrace read prints the eligible corpus tests exactly like tcpdump', { timeout: 600_000 }, async (t) => {
  requireCorpus();
  process.env.TZ = 'GMT0';
  const byName = new Map(readTestList().map((x) => [x.name, x]));
  const eligible = readEligibleList();
  for (const name of REQUIRED_TESTS) assert.ok(eligible.includes(name), `${name} must be in the eligible list`);
  let identical = 0;
  const failures: string[] = [];
  for (const name of eligible) {
    const test = byName.get(name);
    assert.ok(test, `${name} is not in TESTLIST`);
    const r = await compareWithTcpdump(test);
    if (r.identical) identical++;
    else failures.push(`${name} (${test.flags.join(' ') || 'no flags'}): ${r.firstDifference}`);
  }
  t.diagnostic(`identical ${identical} / eligible ${eligible.length}`);
  for (const f of failures) t.diagnostic(`differs: ${f}`);
  const requiredFailures = failures.filter((f) => REQUIRED_TESTS.includes(f.split(' ')[0]));
  assert.deepEqual(requiredFailures, [], 'every test named by the issue is identical');
  assert.ok(identical / eligible.length >= IDENTICAL_FLOOR, `identical ${identical} / eligible ${eligible.length} is below the floor ${IDENTICAL_FLOOR}`);
});
