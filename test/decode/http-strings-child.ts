/**
 * Child of http-strings.test.ts, run as `node --allow-natives-syntax --import tsx THIS`: parses
 * the heads below with parseHttpHead and prints V8's %DebugPrint of every string it returns,
 * whose "- type:" line says how the string is laid out (CONS_… when built piece by piece).
 * The natives call sits in `new Function` so that the TypeScript loader never parses it.
 */
import { parseHttpHead } from '../../src/decode/index.js';

const debugPrint = new Function('s', '%DebugPrint(s)') as (s: string) => void;

/** Header values of every length from 1 to 40 (13–15 is where `+=` used to leave cons strings). */
const values = Array.from({ length: 40 }, (_, i) => 'v'.repeat(i + 1));
const request = `POST /abcdefghijklm HTTP/1.1\r\n${values.map((v, i) => `X-Header-${i}: ${v}\r\n`).join('')}\r\n`;
const response = 'HTTP/1.1 503 Service Unavail\r\nRetry-After: 1234567890123\r\n\r\n';

for (const text of [request, response]) {
  const bytes = Buffer.from(text, 'latin1');
  // Once as a Buffer, once as a plain Uint8Array inside a larger buffer (nonzero byteOffset).
  const plain = new Uint8Array(bytes.length + 7);
  plain.set(bytes, 7);
  for (const [d, offset] of [[bytes, 0], [plain, 7]] as const) {
    const h = parseHttpHead(d, offset, bytes.length);
    const strings = h.kind === 'request' ? [h.method, h.target, h.version] : [h.version, h.reason];
    for (const [name, value] of h.headers) strings.push(name, value);
    for (const s of strings) debugPrint(s);
  }
}
