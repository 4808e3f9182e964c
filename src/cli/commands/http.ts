/**
 * `flowtrace http URL [--resolve HOST:PORT:ADDR]… [--header 'H: v']… [--cacert F|--insecure]
 *   [--trace-id ID] [-m|--timeout S] [--connect-timeout S] [-X M|-I] [-A UA] [-d DATA|--data-binary DATA]… [-v]
 *   [-w FORMAT | --json] [-s]`
 * Exit codes (docs/http.md): 0 a 1xx–3xx response; 1 a 4xx/5xx response; 6 (network) no
 * response: DNS, refused, reset, timeout, TLS, parse; 2 usage; 3 unreadable CA or data file.
 */
import { readFile } from 'node:fs/promises';
import { buildRequestBody, httpProbe, MAX_TIMEOUT_MS, parseWriteOut, renderHttpResult, renderWriteOut } from '../../http/index.js';
import { redactionPolicy } from '../../redaction.js';
import { EXIT, InputError, NetworkError, UsageError } from '../../errors.js';
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
  --timeout S               deadline in seconds for the whole request (default 10, at most 86400)
  -m, --max-time S          the same, in curl's name
  --connect-timeout S       deadline in seconds to get connected (name lookup included, as curl,
                            at most 86400),
                            shared among several addresses
  --happy-eyeballs-timeout-ms N
                            with IPv6 and IPv4 addresses: start the other family N ms after the
                            first (curl's default 200); 0 tries every address in turn
  -X, --method M            request method (default GET, or POST with -d)
  -I, --head                a HEAD request (-X HEAD)
  -A, --user-agent UA       User-Agent to send (-H 'User-Agent: UA')
  -d, --data DATA           request body, like curl: repeated ones joined with &; @FILE reads a
                            file (CR and LF removed), @- stdin; sets Content-Length and, unless
                            given with -H, Content-Type: application/x-www-form-urlencoded
  --data-binary DATA        the same, but @FILE is sent byte for byte
  -v, --verbose             also show the connect attempts and the request and response as
                            curl -v does ('* ', '> ', '< ' lines; credentials redacted)
  --redact NAME             hide the value of header NAME too, besides Authorization,
                            Proxy-Authorization, Cookie, Set-Cookie, X-Api-Key and
                            X-Amz-Security-Token (docs/redaction.md); repeatable
  -w, --write-out FORMAT    print only FORMAT with curl's variables: %{http_code} %{time_connect}
                            %{time_starttransfer} %{time_total} %{remote_ip} %{json} … (@FILE reads it)
  -s, --silent              accepted for curl command lines (there is no progress meter)
  -S, --show-error          accepted for curl command lines (errors are always shown)
  -f, --fail                accepted for curl command lines (a 4xx/5xx always exits 1)
  -o /dev/null              accepted for curl command lines (the body is never printed);
                            another FILE is refused: flowtrace does not save the body
  --json                    print the result as JSON
exit codes: 0 response 1xx-3xx; 1 response 4xx/5xx; 6 no response (DNS, refused, reset,
timeout, TLS, bad HTTP); 2 usage; 3 unreadable --cacert, --data or -w file (docs/http.md)
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('http', {
    args,
    allowPositionals: true,
    options: {
      resolve: { type: 'string', multiple: true },
      header: { type: 'string', short: 'H', multiple: true },
      redact: { type: 'string', multiple: true },
      cacert: { type: 'string' },
      insecure: { type: 'boolean', short: 'k' },
      'trace-id': { type: 'string' },
      timeout: { type: 'string' },
      'max-time': { type: 'string', short: 'm' },
      'connect-timeout': { type: 'string' },
      'happy-eyeballs-timeout-ms': { type: 'string' },
      method: { type: 'string', short: 'X' },
      head: { type: 'boolean', short: 'I' },
      'user-agent': { type: 'string', short: 'A' },
      'write-out': { type: 'string', short: 'w' },
      silent: { type: 'boolean', short: 's' },
      'show-error': { type: 'boolean', short: 'S' },
      fail: { type: 'boolean', short: 'f' },
      output: { type: 'string', short: 'o' },
      data: { type: 'string', short: 'd', multiple: true },
      'data-binary': { type: 'string', multiple: true },
      json: { type: 'boolean' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  }, undefined, CURL_FLAGS_NOT_SUPPORTED);
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(HELP);
    return EXIT.ok;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'http needs a URL' : `http takes one URL, got ${positionals.length}`, 'flowtrace http https://example.com/ [--resolve example.com:443:10.0.0.5]');
  if (values.output !== undefined && values.output !== '/dev/null') throw new UsageError(`-o ${values.output}: flowtrace does not save the response body`, 'the body is never printed (the report shows its first bytes), so -o /dev/null is accepted; to save the body use curl -o FILE');
  if (values.cacert !== undefined && values.insecure) throw new UsageError('--cacert and --insecure together', 'give one: --cacert FILE to verify with your CA, or --insecure to skip verification');
  if (values.timeout !== undefined && values['max-time'] !== undefined) throw new UsageError('--timeout and --max-time together', 'they are the same deadline (curl calls it -m/--max-time): give one');
  const timeoutFlag = values.timeout !== undefined ? '--timeout' : '--max-time';
  const timeoutRaw = values.timeout ?? values['max-time'];
  const timeoutMs = timeoutRaw === undefined ? undefined : timeoutSeconds(timeoutFlag, timeoutRaw) * 1000;
  const connectTimeoutMs = values['connect-timeout'] === undefined ? undefined : timeoutSeconds('--connect-timeout', values['connect-timeout']) * 1000;
  const heRaw = values['happy-eyeballs-timeout-ms'];
  const happyEyeballsMs = heRaw === undefined ? undefined : Number(heRaw);
  if (happyEyeballsMs !== undefined && !(/^\d+$/.test(heRaw!) && happyEyeballsMs <= MAX_TIMEOUT_MS)) throw new UsageError(`bad --happy-eyeballs-timeout-ms '${heRaw}'`, 'milliseconds, e.g. 200 (curl\'s default), or 0 to try every address in turn');
  const redact = values.redact ?? [];
  redactionPolicy(redact); // a bad name is a usage error before anything is sent
  if (values.data !== undefined && values['data-binary'] !== undefined) throw new UsageError('--data and --data-binary together', 'give the body with one of them (--data-binary keeps the line breaks of @FILE)');
  const dataParts = values.data ?? values['data-binary'];
  if (values.head && (dataParts !== undefined || values.method !== undefined)) throw new UsageError(`-I/--head with ${dataParts !== undefined ? '--data' : '-X'}`, '-I sends a HEAD request without a body; give -X METHOD (and -d) instead');
  if (values['write-out'] !== undefined && values.json) throw new UsageError('--write-out and --json together', 'give one: -w picks fields in curl\'s names, --json prints the whole result');
  const writeOut = values['write-out'] === undefined ? null : parseWriteOut(values['write-out'].startsWith('@') ? await readWriteOutFile(values['write-out'].slice(1), io) : values['write-out']);
  const body = dataParts === undefined ? undefined : await buildRequestBody(dataParts, values.data !== undefined ? 'data' : 'binary', () => readAll(io.stdin));
  const headers = [...(values['user-agent'] !== undefined ? [`User-Agent: ${values['user-agent']}`] : []), ...(values.header ?? [])];
  const controller = new AbortController();
  const unregister = io.onInterrupt(() => controller.abort());
  let result;
  try {
    result = await httpProbe(positionals[0], {
      resolve: values.resolve,
      headers,
      caFile: values.cacert,
      insecure: values.insecure === true,
      traceId: values['trace-id'],
      timeoutMs,
      connectTimeoutMs,
      happyEyeballsMs,
      method: values.head ? 'HEAD' : values.method,
      body,
      redact,
      signal: controller.signal,
    });
  } finally {
    unregister();
  }
  const exitCode = result.error === null ? (result.statusCode !== null && result.statusCode >= 400 ? EXIT.failed : EXIT.ok) : result.error.code === 'HTTP_ABORTED' ? EXIT.interrupted : EXIT.network;
  if (writeOut) io.stdout(renderWriteOut(writeOut, result, { exitCode }));
  else io.stdout(values.json ? `${JSON.stringify(result, null, 2)}\n` : renderHttpResult(result, { verbose: values.verbose === true }));
  if (result.error !== null && exitCode !== EXIT.interrupted) {
    return reportError(new NetworkError(result.error.code, `${result.error.message} [phase: ${result.error.phase}]`, result.error.hint, { phase: result.error.phase }), io);
  }
  return exitCode;
}

/**
 * A deadline in seconds: positive, and at most MAX_TIMEOUT_MS (Node's timers hold 24.8 days;
 * past that a timer fires at once, which looked like a timed-out handshake).
 */
function timeoutSeconds(flag: string, raw: string): number {
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError(`bad ${flag} '${raw}'`, `give seconds, e.g. ${flag} 5 or ${flag} 0.5`);
  const maxSeconds = MAX_TIMEOUT_MS / 1000;
  if (seconds > maxSeconds) throw new UsageError(`${flag} ${raw} is more than the maximum, ${maxSeconds} seconds (one day)`, `give at most ${flag} ${maxSeconds}`);
  return seconds;
}

/** curl's flags with no flowtrace equivalent, and what to do instead (docs/http.md). */
const CURL_FLAGS_NOT_SUPPORTED: Readonly<Record<string, string>> = {
  '-L': 'flowtrace makes one request and does not follow redirects: run it again on the Location header it shows',
  '--location': 'flowtrace makes one request and does not follow redirects: run it again on the Location header it shows',
  '-i': 'the response headers are always shown (the body is not printed); -v shows them as curl -v does',
  '--include': 'the response headers are always shown (the body is not printed); -v shows them as curl -v does',
  '-u': "give the header yourself: -H 'Authorization: Basic …' (it is redacted in the output)",
  '--user': "give the header yourself: -H 'Authorization: Basic …' (it is redacted in the output)",
};

/** `-w @FILE` (or `@-`, stdin), as curl. */
async function readWriteOutFile(path: string, io: CliIO): Promise<string> {
  if (path === '-') return (await readAll(io.stdin)).toString('utf8');
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read --write-out file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, "give a readable file after @, or the format itself: -w '%{http_code} %{time_total}\\n'", { writeOutFile: path });
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
