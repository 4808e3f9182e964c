/**
 * Secrets never leave the agent: the values of Authorization, Proxy-Authorization, Cookie
 * and Set-Cookie headers are replaced in everything the agent returns.
 *
 * - text and JSON: `redactText` / `redactDeep` replace the value with `[redacted]`;
 * - pcapng bytes: the value bytes are overwritten with `*` of the same length, so TCP
 *   sequence numbers and lengths stay true (the TCP checksum no longer matches; Wireshark
 *   does not check it by default). Packets are masked per TCP direction in sequence space
 *   (./tcp-secrets.ts), so a header line split across segments — in its name or its
 *   value — is masked in every segment; `maskHeaderValuesInPlace` masks one buffer taken
 *   as a whole stream.
 */
import { SecretHeaderScanner, SECRET_HEADER_NAMES } from './secret-scanner.js';

export const REDACTED_HEADERS = SECRET_HEADER_NAMES;
export const REDACTED = '[redacted]';

/** The secret names as one alternation (they are plain letters and dashes). */
const NAMES = SECRET_HEADER_NAMES.join('|');
const HEADER_NAME = new RegExp(`^(${NAMES})$`, 'i');
// A header line in text: at the start of a line, or after `, ` / `"` / `; ` in rendered output.
const HEADER_IN_TEXT = new RegExp(`(^|[\\r\\n\\s"',;{[(])(${NAMES})(["']?\\s*[:=]\\s*["']?)([^\\r\\n"']*)`, 'gim');

export interface Redactor {
  count: number;
}

export function newRedactor(): Redactor { return { count: 0 }; }

/** Replaces header values in free text (`Cookie: a=b` → `Cookie: [redacted]`). */
export function redactText(text: string, r: Redactor): string {
  return text.replace(HEADER_IN_TEXT, (_m, pre: string, name: string, sep: string, value: string) => {
    if (value === '' || value === REDACTED) return `${pre}${name}${sep}${value}`;
    r.count++;
    return `${pre}${name}${sep}${REDACTED}`;
  });
}

/**
 * A deep copy of `value` with secrets removed: object keys named like the headers get
 * `[redacted]`, `[name, value]` pairs (header lists) too, and every string is passed
 * through redactText.
 */
export function redactDeep<T>(value: T, r: Redactor, depth = 0): T {
  if (depth > 64) return value;
  if (typeof value === 'string') return redactText(value, r) as T;
  if (Array.isArray(value)) {
    if (value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' && HEADER_NAME.test(value[0])) {
      if (value[1] !== REDACTED) r.count++;
      return [value[0], REDACTED] as T;
    }
    return value.map((v) => redactDeep(v, r, depth + 1)) as T;
  }
  if (value instanceof Uint8Array) return value;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (HEADER_NAME.test(k) && v !== null && v !== undefined && v !== '') {
        if (v !== REDACTED) r.count++;
        out[k] = REDACTED;
      } else {
        out[k] = redactDeep(v, r, depth + 1);
      }
    }
    return out as T;
  }
  return value;
}

const STAR = 0x2a;

/**
 * Masks the values of the redacted headers in `bytes`, taken as one stream that starts at a
 * line start, in place. Returns how many values were masked.
 */
export function maskHeaderValuesInPlace(bytes: Uint8Array): number {
  const scanner = new SecretHeaderScanner();
  scanner.feed(bytes, 0, bytes.length, 0);
  scanner.finish();
  for (let r = 0; r < scanner.ranges.length; r += 2) bytes.fill(STAR, scanner.ranges[r], scanner.ranges[r + 1]);
  return scanner.values;
}
