/**
 * The redaction policy: which HTTP header values flowtrace never shows or returns
 * (docs/redaction.md). One list for every output that redacts — `http`, the agent's results
 * and pcapng, `follow`, the report — plus names a user adds (`--redact NAME`, the agent's
 * `start.redact`). A top-level module like errors.ts, so that every layer can import it.
 *
 * `read` is not among them: like tcpdump it prints what the capture holds.
 */
import { UsageError } from './errors.js';

/** Header names (lower case) whose values are always hidden. */
export const SECRET_HEADER_NAMES: readonly string[] = Object.freeze([
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'x-amz-security-token',
]);

/** What a hidden value is replaced with in text and JSON (pcapng bytes become `*` instead). */
export const REDACTED = '[redacted]';

/**
 * Names a user may add. The agent's byte scanner follows its candidate names in one 32-bit
 * mask (agent/secret-scanner.ts): the defaults and the added names must fit in it.
 */
export const MAX_ADDED_NAMES = 24;
export const MAX_NAME_LENGTH = 64;

/** RFC 9110 §5.1: a field name is a token. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Why `name` cannot be a header name to redact, or null when it can. */
export function redactNameProblem(name: string): string | null {
  if (name.length === 0) return 'an empty header name';
  if (name.length > MAX_NAME_LENGTH) return `a header name longer than ${MAX_NAME_LENGTH} characters`;
  if (!TOKEN.test(name)) return `'${name.slice(0, MAX_NAME_LENGTH)}' is not a header name (letters, digits and !#$%&'*+.^_\`|~- only, no colon)`;
  return null;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class RedactionPolicy {
  /** Lower-case names whose values are hidden: the defaults, then the added ones. */
  readonly names: readonly string[];
  /** The names added to the defaults (lower case, without repeats). */
  readonly added: readonly string[];
  private readonly set: ReadonlySet<string>;
  /** A header line in free text or rendered JSON: at a line start or after `, ` / `"` / `; ` … */
  private readonly inText: RegExp;

  /** Throws UsageError for a name that is not a header name, or too many names. */
  constructor(added: readonly string[] = []) {
    const extra: string[] = [];
    for (const name of added) {
      const problem = redactNameProblem(name);
      if (problem !== null) throw new UsageError(`--redact: ${problem}`, 'give a header name, e.g. --redact X-Session-Token (repeat --redact for more)');
      const lower = name.toLowerCase();
      if (!SECRET_HEADER_NAMES.includes(lower) && !extra.includes(lower)) extra.push(lower);
    }
    if (extra.length > MAX_ADDED_NAMES) throw new UsageError(`--redact: ${extra.length} names added, at most ${MAX_ADDED_NAMES}`, 'redact the few headers that carry secrets');
    this.added = Object.freeze(extra);
    this.names = Object.freeze([...SECRET_HEADER_NAMES, ...extra]);
    this.set = new Set(this.names);
    const alternation = this.names.map(escapeRegExp).join('|');
    this.inText = new RegExp(`(^|[\\r\\n\\s"',;{[(])(${alternation})(["']?\\s*[:=]\\s*["']?)([^\\r\\n"']*)`, 'gim');
  }

  /** Whether the value of header `name` (any case) is hidden. */
  has(name: string): boolean {
    return this.set.has(name.toLowerCase());
  }

  /**
   * Hides header-shaped secrets in free text: `Cookie: a=b`, `"X-Api-Key": "…"`,
   * `authorization=…` become `Cookie: [redacted]` etc. `count` (when given) is increased by
   * the number of values hidden.
   */
  redactText(text: string, count?: { count: number }): string {
    return text.replace(this.inText, (_m, pre: string, name: string, sep: string, value: string) => {
      if (value === '' || value === REDACTED) return `${pre}${name}${sep}${value}`;
      if (count) count.count++;
      return `${pre}${name}${sep}${REDACTED}`;
    });
  }

  /**
   * A deep copy of `value` (plain JSON data) with secrets hidden: object keys named like the
   * headers get `[redacted]`, `[name, value]` pairs (header lists) too, and every string goes
   * through redactText.
   */
  redactDeep<T>(value: T, count?: { count: number }, depth = 0): T {
    if (depth > 64) return value;
    if (typeof value === 'string') return this.redactText(value, count) as T;
    if (Array.isArray(value)) {
      if (value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' && this.has(value[0])) {
        if (value[1] !== REDACTED && count) count.count++;
        return [value[0], REDACTED] as T;
      }
      return value.map((v) => this.redactDeep(v, count, depth + 1)) as T;
    }
    if (value instanceof Uint8Array) return value;
    if (value !== null && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (this.has(k) && v !== null && v !== undefined && v !== '') {
          if (v !== REDACTED && count) count.count++;
          out[k] = REDACTED;
        } else {
          out[k] = this.redactDeep(v, count, depth + 1);
        }
      }
      return out as T;
    }
    return value;
  }
}

/** The defaults alone. */
export const DEFAULT_REDACTION = new RedactionPolicy();

/** The policy for names added by the user (the defaults when none). Throws UsageError. */
export function redactionPolicy(added: readonly string[] = []): RedactionPolicy {
  return added.length === 0 ? DEFAULT_REDACTION : new RedactionPolicy(added);
}
