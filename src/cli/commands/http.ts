/**
 * `flowtrace http URL [--resolve HOST:PORT:ADDR]… [--header 'H: v']… [--cacert F|--insecure]
 *   [--trace-id ID] [--timeout S] [--method M] [-v] [--json]`
 * Exit codes (docs/http.md): 0 a 1xx–3xx response; 1 a 4xx/5xx response; 6 (network) no
 * response: DNS, refused, reset, timeout, TLS, parse; 2 usage; 3 unreadable CA file.
 */
import { httpProbe, renderHttpResult } from '../../http/index.js';
import { EXIT, NetworkError, UsageError } from '../../errors.js';
import type { CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { reportError } from '../main.js';

const HELP = `usage: flowtrace http URL [options]

One HTTP/1.1 or HTTPS request with the time of each phase (curl -w names), the address and
port really used, the TLS session, the response headers (credentials redacted), and an
X-Amzn-Trace-Id so the server side can find this exact request.

options:
  --resolve HOST:PORT:ADDR  connect to ADDR for HOST:PORT instead of resolving (like curl); repeatable;
                            ADDR,ADDR…: tried in turn until one connects, as are several from DNS
  -H, --header 'Name: v'    add or replace a request header; repeatable
  --cacert FILE             trust the CA certificate(s) in FILE (PEM) instead of the system roots
  -k, --insecure            do not fail on certificate problems (they are still shown)
  --trace-id ID             X-Amzn-Trace-Id to send: Root=1-<8 hex>-<24 hex> (default: a new one)
  --timeout S               deadline in seconds for the whole request (default 10)
  -X, --method M            request method (default GET)
  -v, --verbose             also show the request as sent (credentials redacted)
  --json                    print the result as JSON
exit codes: 0 response 1xx-3xx; 1 response 4xx/5xx; 6 no response (DNS, refused, reset,
timeout, TLS, bad HTTP); 2 usage; 3 unreadable --cacert file (docs/http.md)
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('http', {
    args,
    allowPositionals: true,
    options: {
      resolve: { type: 'string', multiple: true },
      header: { type: 'string', short: 'H', multiple: true },
      cacert: { type: 'string' },
      insecure: { type: 'boolean', short: 'k' },
      'trace-id': { type: 'string' },
      timeout: { type: 'string' },
      method: { type: 'string', short: 'X' },
      json: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'http needs a URL' : `http takes one URL, got ${positionals.length}`, 'flowtrace http https://example.com/ [--resolve example.com:443:10.0.0.5]');
  if (values.cacert !== undefined && values.insecure) throw new UsageError('--cacert and --insecure together', 'give one: --cacert FILE to verify with your CA, or --insecure to skip verification');
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const seconds = Number(values.timeout);
    if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`bad --timeout '${values.timeout}'`, 'give seconds, e.g. --timeout 5 or --timeout 0.5');
    timeoutMs = seconds * 1000;
  }
  const controller = new AbortController();
  const unregister = io.onInterrupt(() => controller.abort());
  let result;
  try {
    result = await httpProbe(positionals[0], {
      resolve: values.resolve,
      headers: values.header,
      caFile: values.cacert,
      insecure: values.insecure === true,
      traceId: values['trace-id'],
      timeoutMs,
      method: values.method,
      signal: controller.signal,
    });
  } finally {
    unregister();
  }
  io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderHttpResult(result, { verbose: values.verbose === true }));
  if (result.error !== null) {
    if (result.error.code === 'HTTP_ABORTED') return EXIT.interrupted;
    return reportError(new NetworkError(result.error.code, `${result.error.message} [phase: ${result.error.phase}]`, result.error.hint, { phase: result.error.phase }), io);
  }
  return result.statusCode !== null && result.statusCode >= 400 ? EXIT.failed : EXIT.ok;
}
