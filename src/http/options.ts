/**
 * Parsing what the user gives the probe: the URL, curl-style `--resolve HOST:PORT:ADDR`,
 * `--header 'Name: value'` and `--data`, and redacting credentials before anything is shown
 * or stored.
 */
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { InputError, UsageError } from '../errors.js';
import { DEFAULT_REDACTION, type RedactionPolicy } from '../redaction.js';
import type { HttpHeader } from './types.js';

export interface ProbeTarget {
  url: URL;
  host: string;
  port: number;
  https: boolean;
}

export function parseTarget(raw: string): ProbeTarget {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`bad URL '${raw}'`, 'give a full URL: http://host/path or https://host:8443/path');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`unsupported scheme '${url.protocol.replace(/:$/, '')}' in '${raw}'`, 'flowtrace http speaks http:// and https://');
  }
  if (url.username !== '' || url.password !== '') {
    throw new UsageError('credentials in the URL are not sent', "pass them as a header instead: --header 'Authorization: Basic …' (its value is redacted in the output)");
  }
  const https = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { url, host, port: url.port === '' ? (https ? 443 : 80) : Number(url.port), https };
}

export interface ResolveEntry {
  host: string;
  port: number;
  addresses: string[];
}

/** curl's `--resolve HOST:PORT:ADDR[,ADDR…]`; HOST may be `*`, ADDR may be `[v6]`. */
export function parseResolveSpec(spec: string): ResolveEntry {
  const bad = (why: string): never => {
    throw new UsageError(`bad --resolve '${spec}': ${why}`, 'give HOST:PORT:ADDR, e.g. --resolve seqas.online:443:10.0.1.10');
  };
  const m = /^([^:]+):(\d+):(.+)$/.exec(spec.trim());
  if (!m) return bad('expected HOST:PORT:ADDR');
  const port = Number(m[2]);
  if (port < 1 || port > 65535) bad('port out of range');
  const addresses = m[3].split(',').map((a) => a.trim().replace(/^\[(.*)\]$/, '$1'));
  for (const a of addresses) if (isIP(a) === 0) bad(`'${a}' is not an IP address`);
  return { host: m[1].toLowerCase(), port, addresses };
}

/** A header as given with -H: `remove` is curl's `'Name:'` (leave the header out). */
export interface HeaderSpec extends HttpHeader {
  remove: boolean;
}

/** curl's -H: `'Name: value'`; `'Name:'` removes the header; `'Name;'` sends it empty. */
export function parseHeader(spec: string): HeaderSpec {
  const empty = /^([^:;]+);\s*$/.exec(spec);
  const i = empty ? -1 : spec.indexOf(':');
  const name = empty ? empty[1].trim() : i < 0 ? '' : spec.slice(0, i).trim();
  if ((!empty && i < 0) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    throw new UsageError(`bad header '${spec}'`, "give 'Name: value', e.g. --header 'Accept: application/json' ('Name:' leaves a header out, 'Name;' sends it empty)");
  }
  if (empty) return { name, value: '', remove: false };
  const value = spec.slice(i + 1).trim();
  if (/[\r\n\0]/.test(value)) throw new UsageError(`bad header '${name}': the value has a line break`, 'one header per --header');
  return { name, value, remove: value === '' };
}

/**
 * Hides the value of a header of the redaction policy (src/redaction.ts: the defaults and the
 * names added with --redact). Keeps the scheme word of Authorization and the cookie names.
 */
export function redactHeader(h: HttpHeader, policy: RedactionPolicy = DEFAULT_REDACTION): HttpHeader {
  const lower = h.name.toLowerCase();
  if (!policy.has(lower)) return h;
  if (lower === 'authorization' || lower === 'proxy-authorization') {
    const scheme = /^(\S+)\s+\S/.exec(h.value);
    return { name: h.name, value: scheme ? `${scheme[1]} [redacted]` : '[redacted]' };
  }
  if (lower === 'cookie') {
    return { name: h.name, value: h.value.split(';').map((c) => `${c.split('=')[0].trim()}=[redacted]`).join('; ') };
  }
  if (lower === 'set-cookie') {
    const [pair, ...attributes] = h.value.split(';');
    return { name: h.name, value: [`${pair.split('=')[0].trim()}=[redacted]`, ...attributes.map((a) => a.trim())].join('; ') };
  }
  return { name: h.name, value: '[redacted]' };
}

async function readDataFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new InputError(`cannot read --data file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'give a readable file after @, e.g. --data @body.json (or @- for stdin)', { dataFile: path });
  }
}

/**
 * A request body the way curl builds it from repeated `-d/--data` (or `--data-binary`): the
 * parts joined with `&`; a part `@FILE` is the file's bytes — for --data with carriage
 * returns and line feeds removed, as curl does, for --data-binary as they are; `@-` is what
 * `readStdin` returns (the CLI's stdin). Throws InputError for an unreadable file.
 */
export async function buildRequestBody(parts: readonly string[], mode: 'data' | 'binary', readStdin?: () => Promise<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (const [i, part] of parts.entries()) {
    if (i > 0) pieces.push(Buffer.from('&'));
    if (!part.startsWith('@')) { pieces.push(Buffer.from(part, 'utf8')); continue; }
    const path = part.slice(1);
    if (path === '-' && !readStdin) throw new UsageError('--data @- (stdin) is not available here', 'give the body as a string or @FILE');
    const bytes = path === '-' ? await readStdin!() : await readDataFile(path);
    pieces.push(mode === 'data' ? Buffer.from(bytes.filter((b) => b !== 0x0d && b !== 0x0a)) : bytes);
  }
  return Buffer.concat(pieces);
}
