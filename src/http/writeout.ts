/**
 * curl's `-w/--write-out FORMAT` over an HttpResult: `%{variable}` with curl's names and
 * formats (times in seconds with six decimals, 0.000000 when not reached; http_code `000`
 * without a response), `%{json}`, `%%`, and the escapes `\n \r \t \\`. An unknown variable is
 * a usage error here (curl warns and prints nothing for it), so a typo is not silent.
 * Reference: https://curl.se/docs/manpage.html#-w
 */
import { UsageError } from '../errors.js';
import type { HttpResult } from './types.js';

/** What the write-out needs besides the result: the process exit code (curl's `exitcode`). */
export interface WriteOutContext {
  exitCode: number;
}

type Value = string | number;
type Getter = (r: HttpResult, c: WriteOutContext) => Value;

/** Seconds with six decimals, as curl prints its time_* variables. */
function seconds(ms: number | null): Value {
  return Number(((ms ?? 0) / 1000).toFixed(6));
}

const header = (r: HttpResult, name: string): string => r.headers.find((h) => h.name.toLowerCase() === name)?.value ?? '';

/** curl's variables, in curl's order for %{json}; the last ones are flowtrace's. */
const VARIABLES: Record<string, Getter> = {
  content_type: (r) => header(r, 'content-type'),
  errormsg: (r) => r.error?.message ?? '',
  exitcode: (_r, c) => c.exitCode,
  http_code: (r) => r.statusCode ?? 0,
  http_version: (r) => r.httpVersion ?? '0',
  local_ip: (r) => r.local?.address ?? '',
  local_port: (r) => r.local?.port ?? 0,
  method: (r) => r.method,
  num_connects: (r) => (r.remote ? 1 : 0),
  remote_ip: (r) => r.remote?.address ?? '',
  remote_port: (r) => r.remote?.port ?? 0,
  response_code: (r) => r.statusCode ?? 0,
  scheme: (r) => r.url.slice(0, r.url.indexOf(':')).toUpperCase(),
  size_download: (r) => r.bodyBytes,
  size_upload: (r) => r.requestBodyBytes,
  time_appconnect: (r) => seconds(r.timings.appconnectMs),
  time_connect: (r) => seconds(r.timings.connectMs),
  time_namelookup: (r) => seconds(r.timings.namelookupMs),
  time_pretransfer: (r) => seconds(r.timings.pretransferMs),
  time_starttransfer: (r) => seconds(r.timings.starttransferMs),
  time_total: (r) => seconds(r.timings.totalMs),
  url: (r) => r.url,
  url_effective: (r) => r.url,
  // flowtrace's own
  trace_id: (r) => r.traceId,
  error_code: (r) => r.error?.code ?? '',
  error_phase: (r) => r.error?.phase ?? '',
  num_attempts: (r) => r.connectAttempts.length,
};

export const WRITE_OUT_VARIABLES: readonly string[] = [...Object.keys(VARIABLES), 'json'];

/** How curl prints one value in text: times with six decimals, http_code as three digits. */
function text(name: string, value: Value): string {
  if (name.startsWith('time_')) return (value as number).toFixed(6);
  if (name === 'http_code' || name === 'response_code') return String(value).padStart(3, '0');
  return String(value);
}

type Piece = { kind: 'text'; text: string } | { kind: 'var'; name: string };

export interface WriteOut {
  pieces: Piece[];
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\' };

/** Parses a format once (before the request, so a bad one costs no traffic). */
export function parseWriteOut(format: string): WriteOut {
  const pieces: Piece[] = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c === '\\' && i + 1 < format.length && ESCAPES[format[i + 1]] !== undefined) {
      literal += ESCAPES[format[++i]];
    } else if (c === '%' && format[i + 1] === '%') {
      literal += '%';
      i++;
    } else if (c === '%' && format[i + 1] === '{' && format.indexOf('}', i + 2) > 0) {
      const end = format.indexOf('}', i + 2);
      const name = format.slice(i + 2, end);
      if (name !== 'json' && VARIABLES[name] === undefined) {
        throw new UsageError(`unknown --write-out variable '${name}'`, `one of: ${WRITE_OUT_VARIABLES.join(' ')}`);
      }
      if (literal) pieces.push({ kind: 'text', text: literal });
      literal = '';
      pieces.push({ kind: 'var', name });
      i = end;
    } else {
      literal += c;
    }
  }
  if (literal) pieces.push({ kind: 'text', text: literal });
  return { pieces };
}

export function renderWriteOut(w: WriteOut, r: HttpResult, context: WriteOutContext): string {
  return w.pieces.map((p) => {
    if (p.kind === 'text') return p.text;
    if (p.name === 'json') return JSON.stringify(Object.fromEntries(Object.entries(VARIABLES).map(([k, get]) => [k, get(r, context)])));
    return text(p.name, VARIABLES[p.name](r, context));
  }).join('');
}
