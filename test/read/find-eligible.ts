/**
 * Finds the corpus tests flowtrace read is held to (the eligible list, conformance-eligible.txt):
 * a test is eligible when
 *   1. its tcpdump flags are ones `flowtrace read` supports (conformance-lib.ts), and
 *   2. every protocol tshark finds in its capture (`tshark -r CAPTURE -T fields -e
 *      frame.protocols`, all frames) is one flowtrace decodes and prints.
 * tshark is an independent dissector, so the list does not depend on how well we do.
 *
 *   node --import tsx test/read/find-eligible.ts [--cache FILE] > test/read/conformance-eligible.txt
 *
 * --cache FILE keeps "capture<TAB>protocols" lines between runs (tshark takes ~1 s per capture).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CORPUS_TESTS, readArgsFor, readTestList } from './conformance-lib.js';

const run = promisify(execFile);

/** tshark protocol names (frame.protocols) whose content flowtrace prints like tcpdump. */
export const DECODED_PROTOCOLS = new Set([
  'frame', 'eth', 'ethertype', 'vlan', 'sll', 'null', 'raw', 'ip', 'ipv6', 'tcp', 'udp', 'icmp', 'icmpv6', 'dns',
  'http', 'ssh', 'data', 'arp',
]);
/** Tests named by issue 2 that must be in the list (the script fails if one is not). */
export const REQUIRED_TESTS = [
  ...['micro', 'nano'].flatMap((p) => ['', '-t', '-tt', '-ttt', '-tttt', '-ttttt'].map((t) => `tcp-handshake-${p}${t}`)),
  'tcp_rst_data', 'tcp_rst_data-trunc', 'tcp_rst_diag_payload', 'tcp_eight_lowest_weight_flags_set', 'tfo', 'ssh',
  'dns_udp', 'dns_tcp', 'dns-badcookie', 'dns-badvers', 'dns-uri', 'edns-opts', 'icmpv6-length-zero',
  'ipv6-bad-version', 'LINKTYPE_RAW_ipv4', 'LINKTYPE_RAW_ipv6', 'LINKTYPE_IPV4', 'LINKTYPE_IPV6',
];

async function protocolsOf(capture: string): Promise<string[] | null> {
  try {
    const { stdout } = await run('tshark', ['-n', '-r', join(CORPUS_TESTS, capture), '-T', 'fields', '-e', 'frame.protocols'], { maxBuffer: 64 << 20, timeout: 60_000 });
    return [...new Set(stdout.split('\n').flatMap((l) => l.split(':')).filter((p) => p !== ''))].sort();
  } catch {
    return null; // tshark could not read it: not eligible
  }
}

async function main(): Promise<void> {
  const cacheIndex = process.argv.indexOf('--cache');
  const cacheFile = cacheIndex > 0 ? process.argv[cacheIndex + 1] : null;
  const cache = new Map<string, string[]>();
  if (cacheFile && existsSync(cacheFile)) {
    for (const line of readFileSync(cacheFile, 'utf8').split('\n')) {
      const [capture, protos] = line.split('\t');
      if (capture) cache.set(capture, (protos ?? '').split(/\s+/).filter((p) => p !== ''));
    }
  }
  const tests = readTestList().filter((t) => readArgsFor(t) !== null && existsSync(join(CORPUS_TESTS, t.capture)));
  const captures = [...new Set(tests.map((t) => t.capture))].filter((c) => !cache.has(c));
  const queue = [...captures];
  await Promise.all([0, 1].map(async () => {
    for (let c = queue.shift(); c !== undefined; c = queue.shift()) {
      const protos = (await protocolsOf(c)) ?? [];
      cache.set(c, protos);
      if (cacheFile) appendFileSync(cacheFile, `${c}\t${protos.join(' ')}\n`);
    }
  }));
  const eligible = tests.filter((t) => {
    const protos = cache.get(t.capture) ?? [];
    return protos.length > 0 && protos.every((p) => DECODED_PROTOCOLS.has(p));
  }).map((t) => t.name);
  const missing = REQUIRED_TESTS.filter((n) => !eligible.includes(n));
  if (missing.length > 0) {
    process.stderr.write(`required tests not eligible by protocol/flags: ${missing.join(', ')}\n`);
    process.exitCode = 1;
  }
  process.stdout.write(`# Corpus tests flowtrace read must print exactly like tcpdump (made by test/read/find-eligible.ts:\n# supported flags, and tshark finds only protocols in: ${[...DECODED_PROTOCOLS].join(' ')}).\n`);
  for (const name of eligible) process.stdout.write(`${name}\n`);
}

await main();
