/**
 * Where tcpdump's output starts and ends in a text that holds other things too (a terminal
 * pasted whole): the same line grammar as the reader (line.ts), and the same rule for an -A
 * dump (it follows a packet line and starts with the IP header's first byte as ASCII).
 */
import { parseLine } from './line.js';

/** Is this line one tcpdump printed (a packet, its header or its closing counts)? */
export function isTcpdumpLine(line: string): boolean {
  const l = parseLine(line, null);
  return l.kind === 'packet' || l.kind === 'header' || l.kind === 'stats';
}

/**
 * The end (exclusive) of the tcpdump output that starts at `lines[start]`; `start` itself when
 * that line is not tcpdump's. Blank lines inside it are kept when tcpdump goes on after them.
 */
export function tcpdumpBlockEnd(lines: readonly string[], start: number): number {
  let i = start;
  let end = start;
  let expectTimes: boolean | null = null;
  let afterPacket = false;
  let dumping = false;
  let dumpChars = 0;
  let dumpRoom = 0;
  while (i < lines.length) {
    const raw = lines[i]!;
    const l = parseLine(raw, expectTimes);
    if (l.kind === 'packet') {
      if (expectTimes === null) expectTimes = l.time !== null;
      afterPacket = true;
      dumping = false;
      dumpChars = 0;
      const m = /length (\d+)/.exec(l.body);
      dumpRoom = (m ? Number(m[1]) + 60 : 1500) + 64;
      end = ++i;
      continue;
    }
    if (l.kind === 'header' || l.kind === 'stats') { afterPacket = false; dumping = false; end = ++i; continue; }
    if ((l.kind === 'transport' || l.kind === 'payload-text' || l.kind === 'hex') && afterPacket) { end = ++i; continue; }
    if (l.kind === 'blank') { i++; continue; }
    if (afterPacket && (dumping || /^[E`]/.test(raw)) && dumpChars + raw.length <= dumpRoom) {
      dumping = true;
      dumpChars += raw.length + 1;
      end = ++i;
      continue;
    }
    break;
  }
  return end;
}
