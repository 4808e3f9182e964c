/**
 * `flowtrace dns NAME [--server ADDR] [--type T]… [--tcp] [--timeout S] [--retries N] [--json]`
 * dig's own syntax works too: `@SERVER`, `+short`, `+tcp`/`+vc`, `+time=S`, `+tries=N`, `+retry=N`,
 * `-t TYPE`, `-x ADDR`, a record type after the name (`dig example.com MX`).
 * Exit codes (docs/dns.md): 0 an answer; 6 (network) NXDOMAIN, NODATA, SERVFAIL, REFUSED,
 * timeout, unreachable resolver, bad answer; 2 usage; 3 unusable /etc/resolv.conf.
 */
import { MAX_QUERY_TIMEOUT_MS, QUERY_TYPES, resolve, renderDnsResult, renderDnsShort } from '../../dns/index.js';
import { EXIT, NetworkError, UsageError } from '../../errors.js';
import type { CliIO } from '../io.js';
import { isIP } from 'node:net';
import { parseCommandArgs } from '../args.js';
import { reportError } from '../main.js';

const HELP = `usage: flowtrace dns NAME [options]

Resolves NAME (A and AAAA by default) and explains the answers: CNAME chain, TTLs, rcode,
the server that answered, the time, what each address is.

options:
  --server ADDR    resolver to ask: 10.0.0.2, 10.0.0.2:5353, [::1]:53 (default: /etc/resolv.conf)
  --type T         record type (A, AAAA, CNAME, MX, TXT, NS, SOA, PTR, SRV, CAA, …); repeat or comma-separate
  --tcp            query over TCP (default: UDP, then TCP if the answer is truncated)
  --timeout S      seconds to wait per try (default: resolv.conf timeout, else 5)
  --retries N      extra tries per server (default: resolv.conf attempts - 1, else 1)
  --json           print the result as JSON
dig's syntax is understood: @SERVER, +short, +tcp (+vc), +time=S, +tries=N, +retry=N,
-t TYPE, -x ADDR, and a record type after NAME (flowtrace dns example.com MX).
exit codes: 0 answered; 6 NXDOMAIN, NODATA, SERVFAIL, REFUSED, timeout, unreachable; 2 usage (docs/dns.md)
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('dns', {
    args,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      type: { type: 'string', short: 't', multiple: true },
      reverse: { type: 'boolean', short: 'x' },
      tcp: { type: 'boolean' },
      timeout: { type: 'string' },
      retries: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  }, undefined, { '-p': "give the port with the server, as dig's @SERVER -p PORT: @10.0.0.2:5353, --server 10.0.0.2#5353 or [::1]:5353" });
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  const dig = digSyntax(positionals);
  if (dig.server !== undefined && values.server !== undefined) throw new UsageError(`@${dig.server} and --server together`, 'give the resolver once: @10.0.0.2 (dig) or --server 10.0.0.2');
  if (dig.names.length !== 1) throw new UsageError(dig.names.length === 0 ? 'dns needs a NAME' : `dns takes one NAME, got ${dig.names.length} (${dig.names.join(' ')})`, 'flowtrace dns example.com [--server 10.0.0.2] [--type A]   (or dig\'s: flowtrace dns @10.0.0.2 example.com A)');
  const name = dig.names[0]!;
  if (values.reverse && !isIP(name)) throw new UsageError(`-x needs an address, got '${name}'`, 'flowtrace dns -x 10.0.0.7 (an address without --type is looked up in reverse anyway)');
  const types = [...(values.type ?? []), ...dig.types].flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '');
  if (values.reverse && types.some((t) => t.toUpperCase() !== 'PTR')) throw new UsageError(`-x with --type ${types.join(',')}`, '-x looks up the PTR record of the address: drop the type');
  const timeoutText = values.timeout ?? dig.time;
  let timeoutMs: number | undefined;
  if (timeoutText !== undefined) {
    const seconds = Number(timeoutText);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`bad --timeout '${timeoutText}'`, 'give seconds, e.g. --timeout 2 or --timeout 0.5');
    const maxSeconds = MAX_QUERY_TIMEOUT_MS / 1000;
    if (seconds > maxSeconds) throw new UsageError(`--timeout ${timeoutText} is more than the maximum, ${maxSeconds} seconds (an hour)`, `give at most --timeout ${maxSeconds} (seconds per try)`);
    timeoutMs = seconds * 1000;
  }
  let retries: number | undefined;
  const retriesText = values.retries ?? dig.retries;
  if (retriesText !== undefined) {
    if (!/^\d+$/.test(retriesText)) throw new UsageError(`bad --retries '${retriesText}'`, 'give a whole number, e.g. --retries 0');
    retries = Number(retriesText);
  }
  const result = await resolve(name, { server: values.server ?? dig.server, types, tcp: values.tcp === true || dig.tcp, timeoutMs, retries });
  io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : dig.short ? renderDnsShort(result) : renderDnsResult(result));
  if (result.status === 'ok') return EXIT.ok;
  const error = result.error ?? { code: 'DNS_ERROR', message: `${result.name}: ${result.status}`, hint: 'try another --server' };
  return reportError(new NetworkError(error.code, error.message, error.hint, { status: result.status }), io);
}

interface DigSyntax {
  names: string[];
  server?: string;
  types: string[];
  tcp: boolean;
  short: boolean;
  /** `+time=S`: seconds per try, as --timeout. */
  time?: string;
  /** `+tries=N` (N tries) or `+retry=N` (N more), as --retries. */
  retries?: string;
}

const DIG_OPTIONS = '+short, +tcp, +vc, +time=S, +tries=N, +retry=N';

/**
 * The positionals of a dig command line: `@SERVER`, `+option`s, a record type (as dig, a word
 * that is a type, e.g. `MX`, is the type, not the name: `dig example.com MX`), and the name.
 * A single word is the name, even when it is a type's name too.
 */
export function digSyntax(positionals: readonly string[]): DigSyntax {
  const out: DigSyntax = { names: [], types: [], tcp: false, short: false };
  for (const p of positionals) {
    if (p.startsWith('@')) {
      if (out.server !== undefined) throw new UsageError(`two servers: @${out.server} and ${p}`, 'dig asks one server: give one @SERVER');
      if (p.length === 1) throw new UsageError("'@' without a server", 'flowtrace dns @10.0.0.2 example.com');
      out.server = p.slice(1);
      continue;
    }
    if (p.startsWith('+')) {
      const [, flag, value] = /^\+(?:no)?([a-z]+)(?:=(.*))?$/.exec(p) ?? [];
      const negated = p.startsWith('+no');
      if (flag === 'short' || flag === 'tcp' || flag === 'vc') {
        if (flag === 'short') out.short = !negated; else out.tcp = !negated;
      } else if (flag === 'time' && value !== undefined && !negated) {
        out.time = value;
      } else if (flag === 'tries' && value !== undefined && !negated) {
        if (!/^[1-9]\d*$/.test(value)) throw new UsageError(`bad ${p}`, '+tries=N counts every try, at least 1 (as --retries N-1)');
        out.retries = String(Number(value) - 1);
      } else if (flag === 'retry' && value !== undefined && !negated) {
        out.retries = value;
      } else {
        throw new UsageError(`dig option '${p}' is not supported`, `supported: ${DIG_OPTIONS}; the answer is always shown in full (--json for everything)`);
      }
      continue;
    }
    out.names.push(p);
  }
  // Of several words, those that are record types are the types; one word is always the name.
  const isType = (w: string): boolean => (QUERY_TYPES as readonly string[]).includes(w.toUpperCase());
  if (out.names.length > 1) {
    const words = out.names;
    const firstName = words.findIndex((w) => !isType(w));
    const nameAt = firstName === -1 ? 0 : firstName;
    out.names = words.filter((w, i) => i === nameAt || !isType(w));
    out.types = words.filter((w, i) => i !== nameAt && isType(w));
  }
  return out;
}
