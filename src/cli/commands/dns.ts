/**
 * `flowtrace dns NAME [--server ADDR] [--type T]… [--tcp] [--timeout S] [--retries N] [--json]`
 * Exit codes (docs/dns.md): 0 an answer; 6 (network) NXDOMAIN, NODATA, SERVFAIL, REFUSED,
 * timeout, unreachable resolver, bad answer; 2 usage; 3 unusable /etc/resolv.conf.
 */
import { resolve, renderDnsResult } from '../../dns/index.js';
import { EXIT, NetworkError, UsageError } from '../../errors.js';
import type { CliIO } from '../io.js';
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
exit codes: 0 answered; 6 NXDOMAIN, NODATA, SERVFAIL, REFUSED, timeout, unreachable; 2 usage (docs/dns.md)
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('dns', {
    args,
    allowPositionals: true,
    options: {
      server: { type: 'string' },
      type: { type: 'string', multiple: true },
      tcp: { type: 'boolean' },
      timeout: { type: 'string' },
      retries: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'dns needs a NAME' : `dns takes one NAME, got ${positionals.length}`, 'flowtrace dns example.com [--server 10.0.0.2] [--type A]');
  const types = (values.type ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t !== '');
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`bad --timeout '${values.timeout}'`, 'give seconds, e.g. --timeout 2 or --timeout 0.5');
    timeoutMs = seconds * 1000;
  }
  let retries: number | undefined;
  if (values.retries !== undefined) {
    if (!/^\d+$/.test(values.retries)) throw new UsageError(`bad --retries '${values.retries}'`, 'give a whole number, e.g. --retries 0');
    retries = Number(values.retries);
  }
  const result = await resolve(positionals[0], { server: values.server, types, tcp: values.tcp === true, timeoutMs, retries });
  io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderDnsResult(result));
  if (result.status === 'ok') return EXIT.ok;
  const error = result.error ?? { code: 'DNS_ERROR', message: `${result.name}: ${result.status}`, hint: 'try another --server' };
  return reportError(new NetworkError(error.code, error.message, error.hint, { status: result.status }), io);
}
