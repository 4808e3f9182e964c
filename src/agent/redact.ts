/**
 * Secrets never leave the agent: the values of Authorization, Proxy-Authorization, Cookie
 * and Set-Cookie headers are replaced in everything the agent returns.
 *
 * - text and JSON: `redactText` / `redactDeep` replace the value with `[redacted]`;
 * - pcapng bytes: `maskHeaderValuesInPlace` overwrites the value bytes with `*` of the same
 *   length, so TCP sequence numbers and lengths stay true (the TCP checksum no longer
 *   matches; Wireshark does not check it by default). A header split across two TCP
 *   segments is masked from where its name is seen; a value whose NAME is cut off at the
 *   start of a segment cannot be recognised (documented in docs/agent.md).
 */

export const REDACTED_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'] as const;
export const REDACTED = '[redacted]';

const HEADER_NAME = /^(authorization|proxy-authorization|cookie|set-cookie)$/i;
// A header line in text: at the start of a line, or after `, ` / `"` / `; ` in rendered output.
const HEADER_IN_TEXT = /(^|[\r\n\s"',;{[(])(authorization|proxy-authorization|cookie|set-cookie)(["']?\s*[:=]\s*["']?)([^\r\n"']*)/gim;

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

const LOWER_NAMES = REDACTED_HEADERS.map((n) => Buffer.from(n, 'latin1'));
const STAR = 0x2a;
const CR = 0x0d;
const LF = 0x0a;
const COLON = 0x3a;

function lower(c: number): number { return c >= 0x41 && c <= 0x5a ? c | 0x20 : c; }

/**
 * Masks the values of the redacted headers inside raw packet bytes, in place. A header is
 * recognised after LF (start of a header line), followed by optional spaces and `:`.
 * Returns how many values were masked.
 */
export function maskHeaderValuesInPlace(bytes: Uint8Array): number {
  let masked = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== LF) continue;
    const start = i + 1;
    for (const name of LOWER_NAMES) {
      if (start + name.length >= bytes.length) continue;
      let same = true;
      for (let k = 0; k < name.length; k++) {
        if (lower(bytes[start + k]) !== name[k]) { same = false; break; }
      }
      if (!same) continue;
      let j = start + name.length;
      while (j < bytes.length && (bytes[j] === 0x20 || bytes[j] === 0x09)) j++;
      if (bytes[j] !== COLON) continue;
      j++;
      while (j < bytes.length && (bytes[j] === 0x20 || bytes[j] === 0x09)) j++;
      let changed = false;
      while (j < bytes.length && bytes[j] !== CR && bytes[j] !== LF) { bytes[j] = STAR; j++; changed = true; }
      if (changed) masked++;
      i = j - 1;
      break;
    }
  }
  return masked;
}
