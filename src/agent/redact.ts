/**
 * Secrets never leave the agent: the values of the headers of the redaction policy
 * (src/redaction.ts: Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key,
 * X-Amz-Security-Token, and the names a client adds with `start.redact`) are replaced in
 * everything the agent returns.
 *
 * - text and JSON: `redactText` / `redactDeep` replace the value with `[redacted]`;
 * - pcapng bytes: the value bytes are overwritten with `*` of the same length, so TCP
 *   sequence numbers and lengths stay true (the TCP checksum no longer matches; Wireshark
 *   does not check it by default). Packets are masked per TCP direction in sequence space
 *   (./tcp-secrets.ts), so a header line split across segments — in its name or its
 *   value — is masked in every segment; `maskHeaderValuesInPlace` masks one buffer taken
 *   as a whole stream.
 */
import { DEFAULT_REDACTION, REDACTED, SECRET_HEADER_NAMES, type RedactionPolicy } from '../redaction.js';
import { SecretHeaderScanner } from './secret-scanner.js';

/** The default names (the policy's list, src/redaction.ts). */
export const REDACTED_HEADERS = SECRET_HEADER_NAMES;
export { REDACTED };

export interface Redactor {
  count: number;
  readonly policy: RedactionPolicy;
}

export function newRedactor(policy: RedactionPolicy = DEFAULT_REDACTION): Redactor { return { count: 0, policy }; }

/** Replaces header values in free text (`Cookie: a=b` → `Cookie: [redacted]`). */
export function redactText(text: string, r: Redactor): string {
  return r.policy.redactText(text, r);
}

/** A deep copy of `value` with secrets removed (RedactionPolicy.redactDeep), counted in `r`. */
export function redactDeep<T>(value: T, r: Redactor): T {
  return r.policy.redactDeep(value, r);
}

const STAR = 0x2a;

/**
 * Masks the values of the redacted headers in `bytes`, taken as one stream that starts at a
 * line start, in place. Returns how many values were masked.
 */
export function maskHeaderValuesInPlace(bytes: Uint8Array, policy: RedactionPolicy = DEFAULT_REDACTION): number {
  const scanner = new SecretHeaderScanner(policy.names);
  scanner.feed(bytes, 0, bytes.length, 0);
  scanner.finish();
  for (let r = 0; r < scanner.ranges.length; r += 2) bytes.fill(STAR, scanner.ranges[r], scanner.ranges[r + 1]);
  return scanner.values;
}
