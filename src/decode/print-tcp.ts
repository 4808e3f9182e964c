/**
 * TCP pieces of the tcpdump-style printer (print-tcp.c): flags, options, reset data, and the
 * SSH identification string (print-ssh.c). RFC 9293 §3.1, RFC 7323, RFC 2018, RFC 7413.
 */
import { u16, u32 } from './bytes.js';
import { escapeChar } from './print-text.js';

export const TCP_OPTION_NAMES: Record<number, string> = {
  0: 'eol', 1: 'nop', 2: 'mss', 3: 'wscale', 4: 'sackOK', 5: 'sack', 6: 'echo', 7: 'echoreply', 8: 'TS', 11: 'cc',
  12: 'ccnew', 13: '', 19: 'md5', 20: 'scps', 28: 'uto', 29: 'tcp-ao', 30: 'mptcp', 34: 'tfo', 254: 'exp',
};

/** print-tcp.c's option loop: ", options [...]"; `stop` when tcpdump stops the line there. */
export function tcpOptionsText(d: Uint8Array, cp: number, hlen: number, rev: boolean, thseq: number, thack: number): { text: string; stop: boolean } {
  const end = d.length;
  let s = ', options [';
  let ch = '';
  const hex2 = (n: number): string => (n < 16 ? '0' : '') + n.toString(16);
  const trunc = (): { text: string; stop: boolean } => ({ text: s + ' [|tcp]' + (ch !== '' ? '>' : ''), stop: true });
  const bad = (): { text: string; stop: boolean } => ({ text: s + '[bad opt]' + (ch !== '' ? ']' : ''), stop: true });
  while (hlen > 0) {
    s += ch;
    if (cp >= end) return trunc();
    const opt = d[cp++];
    let len: number;
    if (opt === 0 || opt === 1) len = 1;
    else {
      if (cp >= end) return trunc();
      len = d[cp++];
      if (len < 2 || len > hlen) return bad();
      --hlen;
    }
    --hlen;
    let datalen = 0;
    const lencheck = (l: number): 'bad' | 'trunc' | null => (l > hlen ? 'bad' : cp + l > end ? 'trunc' : null);
    s += TCP_OPTION_NAMES[opt] ?? `unknown-${opt}`;
    let r: 'bad' | 'trunc' | null = null;
    switch (opt) {
      case 2:
        datalen = 2;
        if ((r = lencheck(datalen))) break;
        s += ` ${u16(d, cp)}`;
        break;
      case 3:
        datalen = 1;
        if ((r = lencheck(datalen))) break;
        s += ` ${d[cp]}`;
        break;
      case 5:
        datalen = len - 2;
        if (datalen % 8 !== 0) s += ' invalid sack';
        else {
          s += ` ${datalen / 8} `;
          for (let i = 0; i < datalen; i += 8) {
            if ((r = lencheck(i + 4))) break;
            let a = u32(d, cp + i);
            if ((r = lencheck(i + 8))) break;
            let b = u32(d, cp + i + 4);
            if (rev) { a = (a - thseq) >>> 0; b = (b - thseq) >>> 0; } else { a = (a - thack) >>> 0; b = (b - thack) >>> 0; }
            s += `{${a}:${b}}`;
          }
        }
        break;
      case 11: case 12: case 13: case 6: case 7:
        datalen = 4;
        if ((r = lencheck(datalen))) break;
        s += ` ${u32(d, cp)}`;
        break;
      case 8:
        datalen = 8;
        if ((r = lencheck(datalen))) break;
        s += ` val ${u32(d, cp)} ecr ${u32(d, cp + 4)}`;
        break;
      case 19:
        datalen = 16;
        if ((r = lencheck(datalen))) break;
        s += ' ';
        for (let i = 0; i < 16; i++) s += hex2(d[cp + i]);
        break;
      case 20:
        datalen = 2;
        if ((r = lencheck(datalen))) break;
        s += ` cap ${hex2(d[cp])} id ${d[cp + 1]}`;
        break;
      case 29:
        datalen = len - 2;
        if (datalen < 2) s += ' (invalid)';
        else {
          if ((r = lencheck(1))) break;
          s += ` keyid ${d[cp]}`;
          if ((r = lencheck(2))) break;
          s += ` rnextkeyid ${d[cp + 1]}`;
          if (datalen > 2) {
            s += ' mac 0x';
            for (let i = 2; i < datalen; i++) {
              if ((r = lencheck(i + 1))) break;
              s += hex2(d[cp + i]);
            }
          }
        }
        break;
      case 0: case 1: case 4:
        break;
      case 28: {
        datalen = 2;
        if ((r = lencheck(datalen))) break;
        let uto = u16(d, cp);
        s += ` 0x${uto.toString(16)}`;
        uto = uto & 1 ? (uto >> 1) * 60 : uto >> 1;
        s += ` ${uto}`;
        break;
      }
      case 34:
        datalen = len - 2;
        if ((r = lencheck(datalen))) break;
        s += ' ' + fastOpenText(d, cp, datalen, false);
        break;
      case 254: {
        datalen = len - 2;
        if ((r = lencheck(datalen))) break;
        if (datalen < 2) return bad();
        const magic = u16(d, cp);
        s += '-';
        s += magic === 0xf989 ? fastOpenText(d, cp + 2, datalen - 2, true) : magic.toString(16).padStart(4, '0');
        break;
      }
      case 30:
        // MPTCP sub-options are printed by tcpdump's print-mptcp.c; we keep them raw.
        datalen = len - 2;
        if ((r = lencheck(datalen))) break;
        s += ' [not decoded]';
        break;
      default:
        datalen = len - 2;
        if (datalen) s += ' 0x';
        for (let i = 0; i < datalen; i++) {
          if ((r = lencheck(i + 1))) break;
          s += hex2(d[cp + i]);
        }
        break;
    }
    if (r === 'bad') return bad();
    if (r === 'trunc') return trunc();
    cp += datalen;
    hlen -= datalen;
    datalen++;
    if (opt !== 0 && opt !== 1) datalen++;
    if (datalen !== len) s += `[len ${len}]`;
    ch = ',';
    if (opt === 0) break;
  }
  return { text: s + ']', stop: false };
}

export function fastOpenText(d: Uint8Array, cp: number, datalen: number, exp: boolean): string {
  let s = exp ? 'tfo' : '';
  if (datalen === 0) return s + ' cookiereq';
  if (datalen % 2 !== 0 || datalen < 4 || datalen > 16) return s + ' (invalid)';
  s += ' cookie ';
  for (let i = 0; i < datalen; i++) s += (d[cp + i] < 16 ? '0' : '') + d[cp + i].toString(16);
  return s;
}

/**
 * Magic number that opens an RST diagnostic payload (draft-ietf-tcpm-rst-diagnostic-payload
 * §3.1): 0x33AA, a 16-bit reason code, a 32-bit Private Enterprise Number (PEN).
 */
const RST_DIAG_MAGIC = 0x33aa;
const RST_DIAG_CODE_OFFSET = 2;
const RST_DIAG_PEN_OFFSET = 4;
const RST_DIAG_LENGTH = 8;

/**
 * The draft's "TCP Failure Causes" registry (§8.1, initial values). A code means this only
 * when the PEN is 0; with another PEN it is that vendor's own code.
 */
export const TCP_FAILURE_CAUSES: Record<number, string> = {
  1: 'Illegal option length', 2: 'Desynchronized state', 3: 'New data is received after CLOSE is called',
  4: 'ABORT process', 5: 'Unexpected ACK received by non-synchronized state connection',
  6: 'Unexpected SYN in the window', 7: 'Unexpected security compartment', 8: 'Malformed message',
  9: 'Not authorized', 10: 'Resource exceeded', 11: 'Network failure', 12: 'Reset received from the peer',
  13: 'Destination unreachable', 14: 'Connection timeout', 15: 'Too much outstanding data',
  16: 'Unacceptable performance', 17: 'Middlebox interference',
};

/**
 * What tcpdump prints for the data a reset carries (print-tcp.c, from -v on): an RST
 * diagnostic payload as "[RST: code C, pen P]" — at -vv, a registered cause (PEN 0) by its
 * name instead — and any other data as text, at most 30 characters ("[RST+ …]" when cut).
 */
export function rstDataText(d: Uint8Array, off: number, length: number, end: number, verbose = 1): string {
  const MAX_RST_DATA = 30;
  if (length >= 2 && off + 2 <= end && u16(d, off) === RST_DIAG_MAGIC) {
    if (off + RST_DIAG_LENGTH > end) return ' [RST:  [|tcp]';
    const code = u16(d, off + RST_DIAG_CODE_OFFSET);
    const pen = u32(d, off + RST_DIAG_PEN_OFFSET);
    const cause = pen === 0 && verbose > 1 ? TCP_FAILURE_CAUSES[code] : undefined;
    return cause !== undefined ? ` [RST: ${cause}]` : ` [RST: code ${code}, pen ${pen}]`;
  }
  let s = ' [RST';
  let n = length;
  if (n > MAX_RST_DATA) { n = MAX_RST_DATA; s += '+'; }
  s += ' ';
  for (let i = 0; i < n; i++) {
    if (off + i >= end) return s + ' [|tcp]';
    s += escapeChar(d[off + i]);
  }
  s += ']';
  return off + length > end ? s + ' [|tcp]' : s;
}

export function tcpFlagsText(flags: number): string {
  const names: Array<[number, string]> = [[0x01, 'F'], [0x02, 'S'], [0x04, 'R'], [0x08, 'P'], [0x10, '.'], [0x20, 'U'], [0x40, 'E'], [0x80, 'W'], [0x100, 'e']];
  let s = '';
  for (const [bit, ch] of names) if (flags & bit) s += ch;
  return s === '' ? 'none' : s;
}

/** print-ssh.c: the identification string, when the payload starts with one. */
export function sshText(d: Uint8Array, off: number, len: number, end: number): string {
  if (len < 4 || off + 4 > end) return '';
  if (d[off] !== 0x53 || d[off + 1] !== 0x53 || d[off + 2] !== 0x48 || d[off + 3] !== 0x2d) return '';
  let idx = 0;
  while (idx < len && off + idx < end) {
    if (d[off + idx] === 0x0a) {
      let stop = idx;
      if (stop > 0 && d[off + stop - 1] === 0x0d) stop--;
      let s = ': SSH: ';
      for (let i = 0; i < stop; i++) s += escapeChar(d[off + i]);
      return s;
    }
    idx++;
  }
  return '';
}
