/**
 * The hostile corpus: every .pcap/.pcapng of tcpdump's test suite (../shared/corpus/tcpdump,
 * 830 files, many of them crafted to crash parsers) is read to its end or to a clear
 * CaptureFormatError, and every packet is decoded by decode/ — 0 crashes, 0 hangs. A child
 * process does the work so that a hang (an endless loop) can be detected per file and the
 * child killed by its PID.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CORPUS_DIR, parseInChunks, type CollectedPacket } from './helpers.js';
import { requireCorpus } from '../helpers/corpus.js';

requireCorpus();

/** No file may take longer than this (the slowest takes a few ms; this only catches hangs). */
const PER_FILE_TIMEOUT_MS = 20_000;
const EXPECTED_FILES = 830;
/** Link types whose 4-byte pseudo-header Wireshark removes from the lengths (libpcap and flowtrace keep it): SUNATM. */
const WIRESHARK_STRIPS_PSEUDO_HEADER = new Set([123]);

interface FileResult { file: string; status: 'read' | 'format-error' | 'crash' | 'decode-crash'; packets: number; originalBytes?: number; decoded?: number; truncated?: boolean; linkTypes?: number[]; message?: string }

test('tcpdump corpus: every capture read to the end or to a clear error, every packet decoded; 0 crashes, 0 hangs', { timeout: 600_000 }, async (t) => {
  const files = readdirSync(CORPUS_DIR).filter((n) => /\.(pcap|pcapng)$/.test(n)).sort().map((n) => path.join(CORPUS_DIR, n));
  assert.equal(files.length, EXPECTED_FILES, `expected ${EXPECTED_FILES} captures in ${CORPUS_DIR}`);
  const runner = path.join(path.dirname(fileURLToPath(import.meta.url)), 'corpus-runner.ts');
  const child = spawn(process.execPath, ['--import', 'tsx', runner], { stdio: ['pipe', 'pipe', 'inherit'] });
  const results: FileResult[] = [];
  let decoderPresent = false;
  let current: string | null = null;
  let hung: string | null = null;
  let watchdog: NodeJS.Timeout | null = null;
  const arm = (): void => {
    if (watchdog) clearTimeout(watchdog);
    watchdog = setTimeout(() => { hung = current ?? '(start-up)'; child.kill('SIGKILL'); }, PER_FILE_TIMEOUT_MS);
  };
  arm();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stdin.end(`${files.join('\n')}\n`);
  for await (const line of createInterface({ input: child.stdout })) {
    const msg = JSON.parse(line) as Record<string, unknown>;
    if ('decoder' in msg) decoderPresent = Boolean(msg.decoder);
    else if ('start' in msg) current = String(msg.start);
    else { results.push(msg as unknown as FileResult); current = null; }
    arm();
  }
  const code = await exited;
  if (watchdog) clearTimeout(watchdog);
  assert.equal(hung, null, `hang: ${hung} took more than ${PER_FILE_TIMEOUT_MS} ms`);
  assert.equal(code, 0, `the corpus runner exited with ${code}${current ? ` while reading ${current}` : ''}`);

  const read = results.filter((r) => r.status === 'read');
  const clear = results.filter((r) => r.status === 'format-error');
  const crashes = results.filter((r) => r.status === 'crash' || r.status === 'decode-crash');
  const packets = results.reduce((n, r) => n + r.packets, 0);
  const decoded = results.reduce((n, r) => n + (r.decoded ?? 0), 0);
  const summary = `read ${read.length}, clear errors ${clear.length}, crashes ${crashes.length} (${packets} packets read, ` +
    `${decoderPresent ? `${decoded} decoded` : 'decode/ not present: read only'}; ${read.filter((r) => r.truncated).length} truncated)`;
  t.diagnostic(summary);
  console.log(`corpus: ${summary}`);
  for (const c of clear) t.diagnostic(`clear error: ${path.basename(c.file)}: ${c.message}`);
  assert.equal(results.length, files.length, 'every file reported');
  assert.deepEqual(crashes.map((c) => `${path.basename(c.file)}: ${c.message}`), []);
  if (decoderPresent) assert.equal(decoded, read.reduce((n, r) => n + r.packets, 0), 'every packet of every readable file decoded');

  // A second reader as the oracle: Wireshark's capinfos, one process for all files, gives
  // the packet count and the sum of original (wire) lengths of every file it supports.
  const capinfos = spawnSync('capinfos', ['-T', '-r', '-c', '-d', '-M', ...files], { encoding: 'utf8', maxBuffer: 16 << 20 });
  assert.ok(capinfos.stdout.length > 0, `capinfos did not run: ${capinfos.error?.message ?? capinfos.stderr}`);
  const byName = new Map(results.map((r) => [path.basename(r.file), r]));
  let compared = 0;
  const mismatches: string[] = [];
  for (const line of capinfos.stdout.split('\n')) {
    const [name, count, bytes] = line.split('\t');
    const ours = byName.get(path.basename(name ?? ''));
    if (!ours || count === undefined || !/^\d+$/.test(count)) continue;
    if (ours.linkTypes?.some((lt) => WIRESHARK_STRIPS_PSEUDO_HEADER.has(lt))) continue;
    compared++;
    if (ours.packets !== Number(count) || ours.originalBytes !== Number(bytes)) mismatches.push(`${name}: capinfos ${count} packets/${bytes} bytes, flowtrace ${ours.packets}/${ours.originalBytes}`);
  }
  t.diagnostic(`capinfos agrees on ${compared - mismatches.length} of the ${compared} files it can read (SUNATM files not compared)`);
  assert.ok(compared > 800, `capinfos compared only ${compared} files`);
  assert.deepEqual(mismatches, []);
});

/** What a pcap (the format tcpdump -w writes) cannot hold: seconds past 2106, and out-of-range fractions. */
function pcapCanHoldTime(p: CollectedPacket): boolean {
  return p.tsInvalidFraction === null && p.tsSec <= 0xffffffff;
}

test('tcpdump corpus: every packet equal to what libpcap reads (tcpdump -r F --time-stamp-precision=nano -w -)', { timeout: 600_000 }, (t) => {
  const files = readdirSync(CORPUS_DIR).filter((n) => /\.(pcap|pcapng)$/.test(n)).sort();
  let identical = 0;
  let timesNotComparable = 0;
  const differences: string[] = [];
  for (const name of files) {
    const file = path.join(CORPUS_DIR, name);
    const libpcap = spawnSync('tcpdump', ['-r', file, '--time-stamp-precision=nano', '-w', '-'], { maxBuffer: 1 << 30, timeout: PER_FILE_TIMEOUT_MS });
    assert.equal(libpcap.status, 0, `tcpdump could not read ${name}: ${String(libpcap.stderr)}`);
    const ours = parseInChunks(readFileSync(file));
    const theirs = parseInChunks(libpcap.stdout);
    assert.equal(ours.error, null, name);
    if (ours.packets.length !== theirs.packets.length) {
      differences.push(`${name}: ${ours.packets.length} packets, libpcap ${theirs.packets.length}`);
      continue;
    }
    const firstDiff = ours.packets.findIndex((p, i) => {
      const q = theirs.packets[i];
      if (!pcapCanHoldTime(p)) timesNotComparable++;
      else if (p.tsSec !== q.tsSec || p.tsNsec !== q.tsNsec) return true;
      return p.capturedLength !== q.capturedLength || p.originalLength !== q.originalLength || p.dataHex !== q.dataHex;
    });
    if (firstDiff < 0) identical++;
    else differences.push(`${name} #${firstDiff + 1}: ${JSON.stringify({ ...ours.packets[firstDiff], dataHex: undefined })} vs libpcap ${JSON.stringify({ ...theirs.packets[firstDiff], dataHex: undefined })}`);
  }
  t.diagnostic(`identical to libpcap: ${identical} of ${files.length} files (${timesNotComparable} timestamps a pcap cannot hold not compared)`);
  assert.deepEqual(differences, []);
});
