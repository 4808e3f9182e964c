/**
 * `flowtrace http URL [--resolve HOST:PORT:ADDR]… [--header 'H: v']… [--cacert F|--insecure]
 *   [--trace-id ID] [--timeout S] [--method M] [-d DATA|--data-binary DATA]… [-v] [--json]`
 * Exit codes (docs/http.md): 0 a 1xx–3xx response; 1 a 4xx/5xx response; 6 (network) no
 * response: DNS, refused, reset, timeout, TLS, parse; 2 usage; 3 unreadable CA or data file.
 */
import { buildRequestBody, httpProbe, renderHttpResult } from '../../http/index.js';
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
  -X, --method M            request method (default GET, or POST with -d)
  -d, --data DATA           request body, like curl: repeated ones joined with &; @FILE reads a
                            file (CR and LF removed), @- stdin; sets Content-Length and, unless
                            given with -H, Content-Type: application/x-www-form-urlencoded
  --data-binary DATA        the same, but @FILE is sent byte for byte
  -v, --verbose             also show the request as sent (credentials redacted)
  --json                    print the result as JSON
exit codes: 0 response 1xx-3xx; 1 response 4xx/5xx; 6 no response (DNS, refused, reset,
timeout, TLS, bad HTTP); 2 usage; 3 unreadable --cacert or --data file (docs/http.md)
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
      data: { type: 'string', short: 'd', multiple: true },
      'data-binary': { type: 'string', multiple: true },
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
  if (values.data !== undefined && values['data-binary'] !== undefined) throw new UsageError('--data and --data-binary together', 'give the body with one of them (--data-binary keeps the line breaks of @FILE)');
  const dataParts = values.data ?? values['data-binary'];
  const body = dataParts === undefined ? undefined : await buildRequestBody(dataParts, values.data !== undefined ? 'data' : 'binary', () => readAll(io.stdin));
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
      body,
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

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
