/**
 * Child process of the `read` benchmark: reads one capture with flowtrace's library and
 * prints one JSON line — packets, seconds spent in the read loop (monotonic clock, Node's
 * start-up excluded) and the process's own peak RSS.
 *
 *   node dist/bench/read-worker.js FILE read     capture/ only: every packet record delivered
 *   node dist/bench/read-worker.js FILE decode   + decode/: every packet decoded to its layers
 */
import { readCapture } from '../src/capture/index.js';
import { createDecoder } from '../src/decode/index.js';

const [file, mode] = process.argv.slice(2);
if (!file || (mode !== 'read' && mode !== 'decode')) {
  process.stderr.write('usage: read-worker FILE read|decode\n');
  process.exit(2);
}
const decoder = createDecoder();
let packets = 0;
let bytes = 0;
/** Something from every decoded packet, so no work can be skipped; printed at the end. */
let check = 0;
const t0 = performance.now();
if (mode === 'read') {
  await readCapture(file, { onPacket(p) { packets++; bytes += p.capturedLength; } });
} else {
  await readCapture(file, {
    onPacket(p) {
      packets++;
      bytes += p.capturedLength;
      const d = decoder.decode(p.linkType, p.data);
      if (d.transport === 'tcp') check += d.tcp.srcPort + (d.http.present ? 1 : 0);
    },
  });
}
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ mode, packets, bytes, seconds, check, maxRssKiB: process.resourceUsage().maxRSS })}\n`);
