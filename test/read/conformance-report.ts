/**
 * Prints the conformance of every eligible corpus test (or the tests named in argv):
 *   node --import tsx test/read/conformance-report.ts [NAME…]
 */
import { compareWithTcpdump, readEligibleList, readTestList } from './conformance-lib.js';

process.env.TZ = 'GMT0';
const byName = new Map(readTestList().map((t) => [t.name, t]));
const names = process.argv.length > 2 ? process.argv.slice(2) : readEligibleList();
let identical = 0;
for (const name of names) {
  const test = byName.get(name);
  if (!test) { console.log(`?? ${name}: not in TESTLIST`); continue; }
  const r = await compareWithTcpdump(test);
  if (r.identical) identical++;
  else console.log(`DIFF ${name} (${test.flags.join(' ')}) ${r.firstDifference}`);
}
console.log(`identical ${identical} / eligible ${names.length}`);
