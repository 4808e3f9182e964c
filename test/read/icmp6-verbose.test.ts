/**
 * ICMPv6 at -v against tcpdump's own expected output: captures with ICMPv6 are not in the
 * eligible list at -v (not every ICMPv6 -v detail is reproduced: find-eligible.ts), so the
 * corpus tests whose ICMPv6 -v output flowtrace does reproduce are held here by name — the
 * IPv6 header, "[icmp6 sum ok]", no ", length N" at -v, RFC 8335 extended echo objects,
 * node information queries, neighbor-discovery options.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { compareWithTcpdump, readTestList } from './conformance-lib.js';
import { requireCorpus } from '../helpers/corpus.js';

const ICMP6_VERBOSE_TESTS = [
  'icmp6-rfc8335-v', 'icmpv6_nodeinfo_queryipv4', 'icmpv6_nodeinfo_queryipv6', 'icmpv6_opt24-v',
  'icmpv6-ns-nonce-v1', 'icmpv6-ra-pref64-v1',
];

it('flowtrace read -v prints these ICMPv6 corpus tests exactly like tcpdump', async () => {
  requireCorpus();
  process.env.TZ = 'GMT0';
  const byName = new Map(readTestList().map((t) => [t.name, t]));
  const failures: string[] = [];
  for (const name of ICMP6_VERBOSE_TESTS) {
    const test = byName.get(name);
    assert.ok(test, `${name} is not in TESTLIST`);
    assert.ok(test.flags.some((f) => /^-[a-zA-Z]*v/.test(f)), `${name} is a -v test`);
    const r = await compareWithTcpdump(test);
    if (!r.identical) failures.push(`${name}: ${r.firstDifference}`);
  }
  assert.deepEqual(failures, []);
});
