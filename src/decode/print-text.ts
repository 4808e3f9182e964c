/**
 * Character escaping and plain-text protocol lines as tcpdump prints them (netdissect's
 * fn_print_char, nd_printn, txtproto_print / print_txt_line).
 * https://github.com/the-tcpdump-group/tcpdump (util-print.c)
 */

/** tcpdump's fn_print_char: non-ASCII → "M-" + low 7 bits; control → "^" + (c ^ 0x40). */
export function escapeChar(c: number): string {
  let s = '';
  if (c > 0x7f) {
    c &= 0x7f;
    s = 'M-';
  }
  if (c < 0x20 || c === 0x7f) return s + '^' + String.fromCharCode(c ^ 0x40);
  return s + String.fromCharCode(c);
}

/** Escaped text of `n` bytes at `offset`; `truncated` when the captured bytes ran out first. */
export function printn(d: Uint8Array, offset: number, n: number, end: number): { text: string; truncated: boolean } {
  let text = '';
  for (let i = 0; i < n; i++) {
    if (offset + i >= end) return { text, truncated: true };
    text += escapeChar(d[offset + i]);
  }
  return { text, truncated: false };
}

const isPrint = (c: number): boolean => c >= 0x20 && c <= 0x7e;
const MAX_TOKEN = 128;

/** tcpdump's fetch_token: the token at `idx` and the index after the following blanks, or null. */
function fetchToken(d: Uint8Array, base: number, idx: number, len: number, end: number): { token: string; next: number } | null {
  let token = '';
  for (; idx < len; idx++) {
    if (base + idx >= end) return null;
    const c = d[base + idx];
    if (c > 0x7f) return null;
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) break;
    if (!isPrint(c)) return null;
    if (token.length + 2 > MAX_TOKEN + 1) return null;
    token += String.fromCharCode(c);
  }
  if (token.length === 0) return null;
  for (; idx < len; idx++) {
    if (base + idx >= end) break;
    const c = d[base + idx];
    if (c === 0x0d || c === 0x0a) break;
    if (!isPrint(c)) break;
    if (c !== 0x20 && c !== 0x09) break;
  }
  return { token, next: idx };
}

/**
 * tcpdump's print_txt_line: the line starting at `idx` with `prefix`. Returns the text and the
 * index after the line, or next 0 when printing stops there (binary data, a cut line).
 */
function textLine(d: Uint8Array, base: number, idx: number, len: number, end: number, prefix: string, protocol: string): { text: string; next: number } {
  const start = idx;
  while (idx < len) {
    if (base + idx >= end) return { text: ` [|${protocol}]`, next: 0 }; // ran past the captured bytes
    const c = d[base + idx];
    if (c === 0x0a) return { text: prefix + latin1(d, base + start, base + idx), next: idx + 1 };
    if (c === 0x0d) {
      if (idx + 1 >= len) return { text: '', next: 0 };
      if (base + idx + 1 >= end) return { text: ` [|${protocol}]`, next: 0 };
      if (d[base + idx + 1] === 0x0a) return { text: prefix + latin1(d, base + start, base + idx), next: idx + 2 };
      return { text: '', next: 0 };
    }
    if (!isPrint(c) && c !== 0x09) return { text: '', next: 0 };
    idx++;
  }
  return { text: `${prefix}${latin1(d, base + start, base + idx)} [|${protocol}]`, next: 0 };
}

function firstTextLine(d: Uint8Array, base: number, len: number, end: number, prefix: string, protocol: string): string {
  return textLine(d, base, 0, len, end, prefix, protocol).text;
}

function latin1(d: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(d[i]);
  return s;
}

/** HTTP request methods tcpdump recognises (print-http.c httpcmds). */
export const HTTP_COMMANDS = [
  'GET', 'PUT', 'COPY', 'HEAD', 'LOCK', 'MOVE', 'POLL', 'POST', 'BCOPY', 'BMOVE', 'MKCOL', 'TRACE', 'LABEL', 'MERGE',
  'DELETE', 'SEARCH', 'UNLOCK', 'REPORT', 'UPDATE', 'NOTIFY', 'BDELETE', 'CONNECT', 'OPTIONS', 'CHECKIN', 'PROPFIND',
  'CHECKOUT', 'CCM_POST', 'SUBSCRIBE', 'PROPPATCH', 'BPROPFIND', 'BPROPPATCH', 'UNCHECKOUT', 'MKACTIVITY',
  'MKWORKSPACE', 'UNSUBSCRIBE', 'RPC_CONNECT', 'VERSION-CONTROL', 'BASELINE-CONTROL',
];
const HTTP_COMMAND_SET = new Set(HTTP_COMMANDS.map((c) => c.toUpperCase()));

/**
 * tcpdump's txtproto_print in non-verbose mode for a protocol whose requests are `commands`
 * and whose responses carry a 3-digit code as second token: "HTTP" or "HTTP: <first line>".
 */
export function textProtocolSummary(d: Uint8Array, offset: number, len: number, end: number, name: string, commands: Set<string> = HTTP_COMMAND_SET, verbose = 0): string {
  let isReqResp = false;
  const first = fetchToken(d, offset, 0, len, end);
  if (first !== null) {
    if (commands.has(first.token.toUpperCase())) isReqResp = true;
    const second = fetchToken(d, offset, first.next, len, end);
    if (second !== null && /^[0-9]{3}$/.test(second.token)) isReqResp = true;
  }
  let s = name.toUpperCase();
  if (!isReqResp) return s;
  if (verbose === 0) return s + firstTextLine(d, offset, len, end, ': ', name.toLowerCase());
  s += `, length: ${len}`;
  for (let idx = 0; idx < len;) {
    const line = textLine(d, offset, idx, len, end, '\n\t', name.toLowerCase());
    s += line.text;
    if (line.next === 0) break;
    idx = line.next;
  }
  return s;
}
