/**
 * A TCP payload as far as tcpdump's text shows it. What text can carry, from most to least:
 *   -x/-X (hex)   every byte of the packet (handled by the reader: the IP packet is taken whole);
 *   -v on HTTP    every text line of the payload, printed after `HTTP, length: N` (print-txtproto.c
 *                 stops at the first byte that is not printable);
 *   -A            the packet as ASCII, headers included: the HTTP message is found in it by its
 *                 first line;
 *   default       the first line of a message that starts in this segment (`HTTP: GET / HTTP/1.1`).
 * Lines are joined with CRLF (what HTTP/1 uses; tcpdump prints both CRLF and LF as a line
 * end), or with LF when CRLF would not fit the segment's length. A head known only by its
 * first line is closed right after it — with `Content-Length: 0` for a response, so that
 * the next response on a keep-alive connection is read as one. What the text does not show
 * is left out of the packet, as a snaplen cuts one (the IP and TCP lengths still say the
 * whole): the flow engine skips the missing bytes (inside a body of known length they count
 * as body; elsewhere it waits for the next message's head), so the counts of body bytes are
 * the text's, not the wire's (said in the reader's notes).
 *
 * The bytes depend only on the segment's own text, so the copies of one segment on ens5,
 * docker0 and the veth get the same bytes (the flow engine stitches copies by their payload).
 */

export type PayloadSource = 'text' | 'first-line' | 'none';

/** tcpdump's mark for a line cut by the end of the captured data. */
const TRUNCATED = / ?\[\|\w+\]$/;
const HTTP_START = /(?:^|[^A-Za-z])((?:GET|POST|PUT|DELETE|HEAD|OPTIONS|PATCH|CONNECT|TRACE) \S+ HTTP\/\d\.\d|HTTP\/\d\.\d \d{3}(?: |$))/;

/** What the text showed of one segment's payload. */
export interface PayloadText {
  /** The first line tcpdump printed after `HTTP: ` (default verbosity), or null. */
  firstLine: string | null;
  /** The segment ends inside that line (tcpdump marks it ` [|http]`): no line end after it. */
  firstLinePartial: boolean;
  /** Bytes of IP and TCP headers before the payload (an -A dump starts at the IP header), when known. */
  headerBytes: number | null;
  /** The payload's text lines (-v), or null. */
  lines: string[] | null;
  /** The packet's ASCII dump (-A) lines, or null. */
  ascii: string[] | null;
}

function writeAscii(text: string, out: Uint8Array, at: number, limit: number): number {
  let p = at;
  for (let i = 0; i < text.length && p < limit; i++) {
    const c = text.charCodeAt(i);
    out[p++] = c < 256 ? c : 0x3f;
  }
  return p;
}

/** Joins lines with CRLF (LF when CRLF does not fit `length`); returns the bytes written. */
function writeLines(input: readonly string[], out: Uint8Array, length: number): number {
  // A line tcpdump cut (the data ends, or a byte it does not print) ends with ` [|http]`:
  // what follows it is not known.
  const cut = input.length > 0 && TRUNCATED.test(input[input.length - 1]!);
  const lines = input.map((l) => l.replace(TRUNCATED, ''));
  const chars = lines.reduce((n, l) => n + l.length, 0);
  const eol = chars + 2 * (lines.length - 1) <= length ? '\r\n' : '\n';
  let p = 0;
  for (let i = 0; i < lines.length && p < length; i++) {
    if (i > 0) p = writeAscii(eol, out, p, length);
    p = writeAscii(lines[i]!, out, p, length);
  }
  // The last line's end, when the segment has room for it and the line was not cut: CRLF,
  // or LF when one byte is left (a body that ends with a bare LF).
  if (!cut && lines.length > 0 && p < length) p = writeAscii(length - p === 1 ? '\n' : eol, out, p, length);
  return p;
}

/**
 * The payload's lines in an -A dump — the whole IP packet as ASCII, where a CR before an LF is
 * not printed: from the HTTP message's first line when one is in it, else the dump's tail
 * that, counting each line end as CRLF, is as long as the payload (the headers before it may
 * hold CR LF bytes too, so counting from the front is not exact); else from where the
 * headers end. Null when nothing is known.
 */
function payloadInDump(ascii: readonly string[], firstLine: string | null, headerBytes: number | null, length: number): string[] | null {
  // The lines after the packet's line are the dump exactly: tcpdump starts it on a new line,
  // and a dump that ends with a line end leaves an empty line after it.
  const joined = ascii.join('\n');
  let at = firstLine !== null ? joined.indexOf(firstLine) : -1;
  if (at < 0) {
    const m = HTTP_START.exec(joined);
    if (m) at = m.index + m[0].indexOf(m[1]!);
  }
  if (at < 0) at = tailStart(joined, length);
  if (at < 0 && headerBytes !== null && headerBytes <= joined.length) at = headerBytes;
  return at < 0 ? null : joined.slice(at).split('\n');
}

/** Where the last `length` payload bytes start in a dump (each LF shown stands for CR LF); -1 when no start fits exactly. */
function tailStart(joined: string, length: number): number {
  let s = Math.max(0, joined.length - length);
  let newlines = 0;
  for (let i = s; i < joined.length; i++) if (joined.charCodeAt(i) === 0x0a) newlines++;
  // Moving the start right drops one character (two bytes for an LF): the bytes only go down.
  for (; s <= joined.length; s++) {
    const bytes = joined.length - s + newlines;
    if (bytes === length) return s;
    if (bytes < length) return -1;
    if (joined.charCodeAt(s) === 0x0a) newlines--;
  }
  return -1;
}

/**
 * Writes what the text shows of a payload of `length` bytes into `out` from 0; returns how it
 * was known and how many of its first bytes are known (`captured`, at most `length`).
 */
export function fillPayload(t: PayloadText, length: number, out: Uint8Array): { source: PayloadSource; captured: number } {
  if (length === 0) return { source: 'none', captured: 0 };
  const lines = t.lines ?? (t.ascii ? payloadInDump(t.ascii, t.firstLine, t.headerBytes, length) : null);
  if (lines !== null && lines.length > 0 && (lines.length > 1 || lines[0]!.length > 0)) {
    return { source: 'text', captured: writeLines(lines, out, length) };
  }
  if (t.firstLine !== null) {
    const response = t.firstLine.startsWith('HTTP/');
    const head = t.firstLinePartial ? t.firstLine : `${t.firstLine}\r\n${response ? 'Content-Length: 0\r\n' : ''}\r\n`;
    // A head that does not fit the segment (a first line as long as the segment) keeps what fits.
    const captured = writeAscii(head.length <= length ? head : `${t.firstLine}\r\n\r\n`.slice(0, length), out, 0, length);
    return { source: 'first-line', captured };
  }
  return { source: 'none', captured: 0 };
}
