/**
 * Finds the corpus tests flowtrace read is held to (the eligible list, conformance-eligible.txt):
 * a test is eligible when
 *   1. its tcpdump flags are ones `flowtrace read` supports (conformance-lib.ts; -v only for
 *      captures without ICMPv6),
 *   2. every protocol tshark finds in its capture (`tshark -r CAPTURE -T fields -e
 *      frame.protocols`, all frames) is one flowtrace decodes and prints, and
 *   3. tcpdump itself would not switch to a printer we do not have: the link types are ours,
 *      no TCP/UDP port is one of tcpdump's other port-based printers (tshark calls many of
 *      those payloads "data"), and no EtherType or IP protocol is one tcpdump knows but we
 *      do not decode.
 * These are facts about the capture (tshark is an independent dissector; the port and
 * EtherType tables are tcpdump's), so the list does not depend on how well we print.
 *
 *   node --import tsx test/read/find-eligible.ts [--cache FILE] > test/read/conformance-eligible.txt
 *
 * --cache FILE keeps "capture<TAB>protocols" lines between runs (tshark takes ~1 s per capture).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readCapture } from '../../src/capture/index.js';
import { createDecoder } from '../../src/decode/index.js';
import { ETHERTYPE_NAMES } from '../../src/decode/print-link.js';
import { CORPUS_TESTS, readArgsFor, readTestList } from './conformance-lib.js';

const run = promisify(execFile);

/** tshark protocol names (frame.protocols) whose content flowtrace prints like tcpdump. */
export const DECODED_PROTOCOLS = new Set([
  'frame', 'eth', 'ethertype', 'vlan', 'sll', 'null', 'raw', 'ip', 'ipv6', 'tcp', 'udp', 'icmp', 'icmpv6', 'dns',
  'http', 'ssh', 'data', 'arp',
  // The text body of an HTTP message (tshark's reassembled view); tcpdump prints such
  // segments as plain "HTTP", as we do.
  'data-text-lines',
]);
/** Tests named by issue 2 that must be in the list (the script fails if one is not). */
export const REQUIRED_TESTS = [
  ...['micro', 'nano'].flatMap((p) => ['', '-t', '-tt', '-ttt', '-tttt', '-ttttt'].map((t) => `tcp-handshake-${p}${t}`)),
  'tcp_rst_data', 'tcp_rst_data-trunc', 'tcp_rst_diag_payload', 'tcp_eight_lowest_weight_flags_set', 'tfo', 'ssh',
  'dns_udp', 'dns_tcp', 'dns-badcookie', 'dns-badvers', 'dns-uri', 'edns-opts', 'icmpv6-length-zero',
  'ipv6-bad-version', 'LINKTYPE_RAW_ipv4', 'LINKTYPE_RAW_ipv6', 'LINKTYPE_IPV4', 'LINKTYPE_IPV6',
];

/** Link types flowtrace decodes. */
const OUR_LINK_TYPES = new Set([0, 1, 12, 14, 101, 108, 113, 228, 229, 276]);
/** Ports of tcpdump's TCP payload printers (print-tcp.c) other than the ones we print (22, 53, 80, 8080). */
const TCPDUMP_OTHER_TCP_PORTS = new Set([21, 23, 25, 43, 139, 179, 323, 445, 554, 639, 646, 1723, 2049, 6379, 6633, 6653, 8554, 10288]);
/** Ports of tcpdump's UDP payload printers (print-udp.c) other than DNS (53) and mDNS (5353). */
const TCPDUMP_OTHER_UDP_PORTS = new Set([
  67, 68, 69, 88, 111, 123, 137, 138, 161, 162, 319, 320, 434, 443, 496, 500, 514, 520, 521, 525, 546, 547, 646, 654,
  698, 701, 750, 921, 1645, 1646, 1700, 1701, 1589, 1812, 1813, 1985, 2049, 2103, 2104, 3456, 3503, 3784, 3785, 3799,
  4341, 4342, 4500, 4567, 4784, 4789, 4790, 5060, 5246, 5247, 5355, 5359, 6081, 6343, 6635, 6696, 6697, 6784,
  7000, 7001, 7002, 7003, 7004, 7005, 7006, 7007, 7008, 7009, 8231, 8472, 12222, 12223, 17754, 30490, 30501, 49152, 51820,
]);
const OUR_ETHERTYPES = new Set([0x0800, 0x86dd, 0x0806]);
/** IP protocols tcpdump has printers for (print-ip-demux.c) other than ICMP, TCP, UDP, ICMPv6. */
const TCPDUMP_OTHER_IP_PROTOCOLS = new Set([2, 4, 8, 9, 33, 41, 46, 47, 50, 51, 55, 62, 77, 88, 89, 103, 108, 112, 113, 132, 135, 137, 143]);

/** Why tcpdump would print a packet of this capture with a printer we lack, or null. */
async function tcpdumpOnlyContent(capture: string): Promise<string | null> {
  const decoder = createDecoder({ http: false });
  let reason: string | null = null;
  try {
    await readCapture(join(CORPUS_TESTS, capture), {
      onPacket(record) {
        if (reason !== null) return;
        if (!OUR_LINK_TYPES.has(record.linkType)) { reason = `link type ${record.linkType}`; return; }
        const p = decoder.decode(record.linkType, record.data);
        if (p.link.lengthField >= 0) { reason = '802.3/LLC frame'; return; }
        if (p.otherNetwork >= 0 && !OUR_ETHERTYPES.has(p.otherNetwork) && ETHERTYPE_NAMES[p.otherNetwork] !== undefined) { reason = `ethertype 0x${p.otherNetwork.toString(16)}`; return; }
        const ipProtocol = p.ipVersion === 4 ? p.ipv4.protocol : p.ipVersion === 6 ? p.ipv6.upperProtocol : -1;
        if (TCPDUMP_OTHER_IP_PROTOCOLS.has(ipProtocol)) { reason = `IP protocol ${ipProtocol}`; return; }
        if (p.transport === 'tcp' && p.tcp.headerLength > 0 && (TCPDUMP_OTHER_TCP_PORTS.has(p.tcp.srcPort) || TCPDUMP_OTHER_TCP_PORTS.has(p.tcp.dstPort))) { reason = `tcp port ${p.tcp.srcPort}/${p.tcp.dstPort}`; return; }
        if (p.transport === 'udp' && (TCPDUMP_OTHER_UDP_PORTS.has(p.udp.srcPort) || TCPDUMP_OTHER_UDP_PORTS.has(p.udp.dstPort))) { reason = `udp port ${p.udp.srcPort}/${p.udp.dstPort}`; }
      },
    });
  } catch {
    // A capture the reader rejects is judged by tshark's view alone.
  }
  return reason;
}

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
  const byProtocol = tests.filter((t) => {
    const protos = cache.get(t.capture) ?? [];
    if (protos.length === 0 || !protos.every((p) => DECODED_PROTOCOLS.has(p))) return false;
    // -v (alone or grouped, as in -ev): IPv4 and the IPv6 header are printed as tcpdump does,
    // but not every ICMPv6 -v detail (node information, router renumbering, mobile prefix,
    // the -vv dump of ND options), so -v is not held to tcpdump on captures with ICMPv6.
    if (t.flags.some((f) => /^-[a-zA-Z]*v/.test(f)) && protos.includes('icmpv6')) return false;
    return true;
  });
  const tcpdumpOnly = new Map<string, string | null>();
  for (const c of new Set(byProtocol.map((t) => t.capture))) tcpdumpOnly.set(c, await tcpdumpOnlyContent(c));
  for (const [c, why] of tcpdumpOnly) if (why !== null) process.stderr.write(`not eligible: ${c}: ${why}\n`);
  const eligible = byProtocol.filter((t) => tcpdumpOnly.get(t.capture) === null).map((t) => t.name);
  const missing = REQUIRED_TESTS.filter((n) => !eligible.includes(n));
  if (missing.length > 0) {
    process.stderr.write(`required tests not eligible by protocol/flags: ${missing.join(', ')}\n`);
    process.exitCode = 1;
  }
  process.stdout.write(`# Corpus tests flowtrace read must print exactly like tcpdump (made by test/read/find-eligible.ts:\n# supported flags; tshark finds only protocols in: ${[...DECODED_PROTOCOLS].join(' ')};\n# no link type, port or EtherType for which tcpdump has a printer we lack).\n`);
  for (const name of eligible) process.stdout.write(`${name}\n`);
}

if (process.argv[1]?.endsWith("find-eligible.ts")) await main();
