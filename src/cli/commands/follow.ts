/**
 * `flowtrace follow URL [--server ssh://…|netns:NODE|local] [--once] [--proto tcp|udp|icmp]…
 *   [--json] [--report FILE] [--cacert F|--insecure] [--dns-server ADDR] [--timeout S]
 *   [--aws-config DIR | --aws [--aws-profile P] [--aws-region R]] [--aws-lb NAME]`
 * Exit codes (docs/follow.md): 0 the application answered 2xx/3xx; 10–16 the first failing
 * layer (FOLLOW_EXIT); 2 usage; 130 interrupted.
 */
import { accessSync, constants as fsConstants, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { follow, parseTargetHealth } from '../../follow/index.js';
import type { FollowOptions, FollowResult, TargetHealthEntry, TargetName, TraceProto } from '../../follow/index.js';
import { checkAccessLogSource } from '../../alb-log/index.js';
import { OtlpTraces, otlpTracesUrl } from '../../telemetry/index.js';
import { renderHtmlReport, renderTerminal } from '../../report/index.js';
import { EXIT, InputError, UsageError } from '../../errors.js';
import { redactionPolicy } from '../../redaction.js';
import type { CliIO } from '../io.js';
import { parseCommandArgs, parseLbNames } from '../args.js';
import { readAwsConfigDir, type AwsConfigSource } from '../../aws/index.js';
import { quietAwsSdk } from './aws-options.js';
import { SERVER_MODES, type ServerMode } from '../../agent/index.js';

const HELP = `usage: flowtrace follow URL [options]

The whole walk for one URL: DNS (every address) → the route to each address (TCP SYN to the
URL's port) → the capture on the server (when --server is given) → one request with a fresh
X-Amzn-Trace-Id through each load-balancer address → the request found in the capture and
its path through ens5, docker0 and the veth → the verdict, one row per layer.

options:
  --server TARGET        capture on the instance: ssh://user@host[:port], netns:NODE (the lab: netns:ec2), local;
                         repeatable, one per target of the load balancer (the lab: --server netns:ec2-a
                         --server netns:ec2-b): the captures run together, each request is read on the
                         target that got it
  --server-mode M        for ssh://: auto (default: flowtrace agent when the server has it, else
                         agentless: only tcpdump and sudo there), agent, agentless
  --alb-log PATH         the load balancer's access log: a file, a directory of its .log.gz files, or
                         s3://BUCKET/PREFIX (AWS SDK credentials); each request's line is joined by its
                         trace id (the lab: /run/flowtrace-lab/access-logs)
  --target-health FILE   the output of \`aws elbv2 describe-target-health\` (JSON): each target's health
                         on the load balancer's row and in the report; repeatable
  --target-name ADDR=NAME[@ZONE]
                         name a target address (and its zone), e.g. 172.31.21.20=ec2-b@b; repeatable
  --once                 one request, through the first address only
  --proto P              also trace with udp or icmp (tcp to the URL's port always runs); repeatable
  --json                 print the whole result as JSON (schema: docs/follow.md)
  --report FILE          write the HTML report (self-contained) to FILE
  --cacert FILE          trust the CA in FILE for https (the lab: /run/flowtrace-lab/ca.pem)
  -k, --insecure         do not fail on certificate problems
  --dns-server ADDR      ask this DNS server instead of /etc/resolv.conf's
  --timeout S            per-request deadline in seconds (default 8)
  --lb-name ADDR=NAME[@ZONE]
                         name a load-balancer address (and its zone) in the output
                         (e.g. 10.77.2.10=alb-b@eu-west-1b); repeatable
  --target-port N        the port the load balancer sends to on the instance, captured there
                         (default: the URL's port; for https also 80); repeatable
  --aws-config DIR       read the paths in the AWS configuration saved in DIR (the AWS CLI's
                         describe-*.json outputs: docs/aws.md; the lab: "$(flowtrace lab aws-config)"):
                         each hop allowed / denied by which rule / not determinable, next to
                         what the packets did
  --aws                  the same, asked of the AWS API (read-only; the SDK's usual
                         credentials, or --aws-profile NAME, --aws-region REGION)
  --aws-lb NAME|ARN      the load balancer the URL goes to, when its DNS name is not on the
                         URL's CNAME chain and no node has the address
  --redact NAME          hide the value of header NAME too (besides Authorization, Cookie…,
                         docs/redaction.md), in the request's result and the server's capture;
                         repeatable
  --otlp URL             send the result as one OpenTelemetry trace over OTLP/HTTP (a span per
                         layer, the evidence as attributes): a collector's base URL
                         (http://localhost:4318; /v1/traces is added) or the full traces URL
  -v, --verbose          print every row's evidence under it
exit codes: 0 the application answered 2xx/3xx; 10 dns, 11 route, 12 load balancer,
13 instance (never reached ens5), 14 container path, 15 application, 16 not located
(e.g. the load balancer answered 5xx and no --server was given); 2 usage;
3 --report FILE not writable or --aws-config DIR unreadable (checked first); 130 Ctrl-C
`;

const OWN_REQUEST = 'follow sends its own GET (a fresh trace id) through each load-balancer address; a request of your own (headers, method, body) is `flowtrace http URL -H … -X … -d …`';
/** curl's request flags: follow does not take them (docs/follow.md); the hint says where they go. */
const CURL_REQUEST_FLAGS: Readonly<Record<string, string>> = Object.fromEntries(
  ['-H', '--header', '-X', '--request', '-d', '--data', '-A', '--user-agent'].map((f) => [f, OWN_REQUEST]),
);

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Checks the walk's options (a usage error before anything is sent; an --aws-config folder
 * that cannot be read is an input error) and turns them into follow's options.
 */
export function walkOptions(values: WalkValues, io: CliIO): Omit<FollowOptions, 'signal' | 'onStep'> {
  if (values.cacert !== undefined && values.insecure) throw new UsageError('--cacert and --insecure together', 'give one: --cacert FILE to verify with your CA, or --insecure to skip verification');
  const protos: TraceProto[] = [];
  for (const p of values.proto ?? []) {
    if (p !== 'tcp' && p !== 'udp' && p !== 'icmp') throw new UsageError(`unknown --proto '${p}'`, 'protocols: tcp, udp, icmp');
    if (!protos.includes(p)) protos.push(p);
  }
  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    const s = Number(values.timeout);
    if (!Number.isFinite(s) || s <= 0 || s > 300) throw new UsageError(`bad --timeout '${values.timeout}'`, 'seconds, e.g. --timeout 5 (at most 300)');
    timeoutMs = Math.round(s * 1000);
  }
  const { lbNames, lbZones } = parseLbNames(values['lb-name'] ?? []);
  const targetPorts: number[] = [];
  for (const t of values['target-port'] ?? []) {
    const n = Number(t);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`bad --target-port '${t}'`, 'a port number, e.g. --target-port 80');
    targetPorts.push(n);
  }
  const redact = values.redact ?? [];
  redactionPolicy(redact); // a bad name is a usage error before the walk
  const servers = values.server ?? [];
  for (const srv of servers) {
    if (!/^(local|netns:.+|ssh:\/\/.+)$/.test(srv)) {
      throw new UsageError(`unknown --server '${srv}'`, 'targets: ssh://user@host[:port], netns:NODE (the lab: netns:ec2), local');
    }
  }
  if (new Set(servers).size !== servers.length) throw new UsageError('the same --server twice', 'give each target once');
  const targetNames: Record<string, TargetName> = {};
  for (const spec of values['target-name'] ?? []) {
    const m = /^([^=]+)=([A-Za-z0-9._-]{1,32})(?:@([A-Za-z0-9._-]{1,32}))?$/.exec(spec);
    if (!m) throw new UsageError(`bad --target-name '${spec}'`, 'ADDR=NAME or ADDR=NAME@ZONE, e.g. --target-name 172.31.21.20=ec2-b@eu-west-1b');
    targetNames[m[1]!.replace(/:\d+$/, '')] = { name: m[2]!, zone: m[3] ?? null };
  }
  const targetHealth: TargetHealthEntry[] = [];
  for (const file of values['target-health'] ?? []) {
    let text: string;
    try { text = readFileSync(file === '-' ? 0 : file, 'utf8'); } catch (err) {
      throw new InputError(`cannot read --target-health ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'aws elbv2 describe-target-health --target-group-arn ARN > health.json, then --target-health health.json');
    }
    try { targetHealth.push(...parseTargetHealth(JSON.parse(text))); } catch (err) {
      throw new InputError(`--target-health ${file}: ${(err as Error).message}`, 'give the JSON `aws elbv2 describe-target-health --target-group-arn ARN` prints');
    }
  }
  // An access log that cannot be read is found out now, before anything is sent.
  const albLog = values['alb-log'] === undefined ? null : values['alb-log'].startsWith('s3:') ? values['alb-log'] : path.resolve(io.cwd, values['alb-log']);
  if (albLog !== null) checkAccessLogSource(albLog);
  const serverMode = (values['server-mode'] ?? 'auto') as ServerMode;
  if (!SERVER_MODES.includes(serverMode)) throw new UsageError(`unknown --server-mode '${values['server-mode']}'`, 'modes: auto, agent, agentless');
  if (values['server-mode'] !== undefined && servers.length === 0) throw new UsageError('--server-mode goes with --server', 'e.g. --server ssh://ec2-user@10.0.0.5 --server-mode agentless');
  const notSsh = servers.find((s) => !s.startsWith('ssh://'));
  if (serverMode === 'agentless' && notSsh !== undefined) throw new UsageError(`--server-mode agentless needs an ssh:// target, not '${notSsh}'`, 'the agent runs for local and netns: targets');

  // The configuration: a folder is read now (a bad one is an error before anything is sent).
  if (values['aws-config'] !== undefined && values.aws) throw new UsageError('--aws-config and --aws together', 'give one: --aws-config DIR (saved outputs) or --aws (ask the API)');
  if ((values['aws-profile'] !== undefined || values['aws-region'] !== undefined) && !values.aws) throw new UsageError('--aws-profile and --aws-region go with --aws', 'add --aws (or save the outputs with `flowtrace aws-snapshot DIR --aws-profile …` and give --aws-config DIR)');
  let aws: AwsConfigSource | null = null;
  if (values['aws-config'] !== undefined) {
    const dir = path.resolve(io.cwd, values['aws-config']);
    readAwsConfigDir(dir);
    aws = { kind: 'files', dir };
  } else if (values.aws) {
    quietAwsSdk();
    aws = { kind: 'api', profile: values['aws-profile'] ?? null, region: values['aws-region'] ?? null, loadBalancer: values['aws-lb'] ?? null };
  }

  return {
    probeOptions: { dnsServer: values['dns-server'], serverMode, redact },
    servers, albLog, targetHealth, targetNames, once: values.once ?? false, protos, caFile: values.cacert ?? null,
    insecure: values.insecure ?? false, timeoutMs, lbNames, lbZones, targetPorts, aws, awsLoadBalancer: values['aws-lb'] ?? null,
  };
}

/**
 * The options of the walk itself, shared by `follow` and `watch` (which runs the same walk on
 * a schedule): parsed by parseArgs, checked by walkOptions.
 */
export const WALK_OPTIONS = {
  server: { type: 'string', multiple: true },
  'alb-log': { type: 'string' },
  'target-health': { type: 'string', multiple: true },
  'target-name': { type: 'string', multiple: true },
  'server-mode': { type: 'string' },
  once: { type: 'boolean' },
  proto: { type: 'string', multiple: true },
  cacert: { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  'dns-server': { type: 'string' },
  timeout: { type: 'string' },
  'lb-name': { type: 'string', multiple: true },
  redact: { type: 'string', multiple: true },
  'target-port': { type: 'string', multiple: true },
  'aws-config': { type: 'string' },
  aws: { type: 'boolean' },
  'aws-profile': { type: 'string' },
  'aws-region': { type: 'string' },
  'aws-lb': { type: 'string' },
  otlp: { type: 'string' },
} as const;

/** The values of WALK_OPTIONS as parseArgs returns them. */
export interface WalkValues {
  server?: string[];
  'alb-log'?: string;
  'target-health'?: string[];
  'target-name'?: string[];
  'server-mode'?: string;
  once?: boolean;
  proto?: string[];
  cacert?: string;
  insecure?: boolean;
  'dns-server'?: string;
  timeout?: string;
  'lb-name'?: string[];
  redact?: string[];
  'target-port'?: string[];
  'aws-config'?: string;
  aws?: boolean;
  'aws-profile'?: string;
  'aws-region'?: string;
  'aws-lb'?: string;
  otlp?: string;
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('follow', {
    args,
    allowPositionals: true,
    options: {
      ...WALK_OPTIONS,
      json: { type: 'boolean' },
      report: { type: 'string' },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  }, undefined, CURL_REQUEST_FLAGS);
  const { values, positionals } = parsed;
  if (values.help) { io.stdout(HELP); return EXIT.ok; }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'follow needs a URL' : `follow takes one URL, got ${positionals.length}`, 'flowtrace follow http://example.com/ [--server ssh://ec2-user@INSTANCE]');
  const walk = walkOptions(values, io);
  const otlp = values.otlp === undefined ? null : otlpTracesUrl(values.otlp);

  // A report that cannot be written is found out now, not after the whole walk (whose result
  // would be lost behind the error).
  if (values.report !== undefined) checkReportTarget(io, values.report);

  // Progress on a TTY only (stderr, so --json on stdout stays clean) — and only when stderr,
  // where it is drawn, is that terminal too (`2>file` must not fill the file with frames).
  // Whenever stderr is a terminal (also with --json or stdout in a pipe): the walk waits for
  // answers, and a terminal should see why; never into a redirected stderr.
  const progress = process.stderr.isTTY === true;
  let frame = 0;
  let current = '';
  const draw = (): void => { io.stderr(`\r\x1b[2K${SPINNER[frame++ % SPINNER.length]} ${current}`); };
  const timer = progress ? setInterval(draw, 90) : null;
  const controller = new AbortController();
  let interrupted = false;
  const off = io.onInterrupt(() => { interrupted = true; controller.abort(); });
  let result: FollowResult;
  try {
    result = await follow(positionals[0]!, {
      ...walk, signal: controller.signal,
      onStep: (s) => { current = s; if (progress) draw(); },
    });
  } finally {
    if (timer) clearInterval(timer);
    if (progress) io.stderr('\r\x1b[2K');
    off();
  }
  if (interrupted) {
    io.stderr('error[INTERRUPTED]: follow was interrupted before its verdict\nhint: nothing was printed or written; the capture on the server, if any, was stopped\n');
    return EXIT.interrupted;
  }

  if (values.report !== undefined) writeReport(io, values.report, result);
  if (otlp !== null) await exportTrace(io, otlp, result);
  if (values.json) {
    io.stdout(JSON.stringify(result, null, 2) + '\n');
  } else {
    io.stdout(renderTerminal(result, { color: io.isTTY && !io.env.NO_COLOR, width: Math.min(120, process.stdout.columns || 100), verbose: values.verbose ?? false }));
    if (values.report !== undefined) io.stdout(`report: ${path.resolve(io.cwd, values.report)}\n`);
  }
  return result.verdict.exitCode;
}

/**
 * Sends `result` as one trace (--otlp) and says so on stderr; a collector that does not take
 * it is a warning: the verdict (and its exit code) stands.
 */
async function exportTrace(io: CliIO, url: string, result: FollowResult): Promise<void> {
  const traces = new OtlpTraces({ url, version: result.tool.version });
  try {
    const sent = await traces.export(result);
    io.stderr(sent.ok ? `otlp: trace ${sent.traceId} (${sent.spans} spans) sent to ${url}\n` : `warning: the trace was not sent to ${url}: ${sent.error} (is a collector listening there for OTLP/HTTP? port 4318, path /v1/traces)\n`);
  } finally {
    await traces.shutdown();
  }
}

/**
 * Renders the HTML report of `result` and writes it to `file`. A failure to render is thrown
 * as is (a fresh result that cannot be drawn is a bug; `flowtrace report` checks a saved one
 * itself); only a failure to write is the path's fault.
 */
export function writeReport(io: CliIO, file: string, result: FollowResult): string {
  return writeReportHtml(io, file, renderHtmlReport(result));
}

/** Throws the error writeReportHtml would, when `file`'s folder is missing or not writable, or `file` is a folder. */
export function checkReportTarget(io: CliIO, file: string): void {
  const target = path.resolve(io.cwd, file);
  let problem: string | null = null;
  try {
    accessSync(path.dirname(target), fsConstants.W_OK);
    if (statSync(target, { throwIfNoEntry: false })?.isDirectory()) problem = 'EISDIR';
  } catch (err) {
    problem = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  }
  if (problem !== null) throw new InputError(`cannot write the report to ${target}: ${problem}`, 'give a writable path, e.g. --report /tmp/flowtrace-report.html');
}

/** Writes an already rendered report to `file` (resolved against the CLI's cwd); returns the path. */
export function writeReportHtml(io: CliIO, file: string, html: string): string {
  const target = path.resolve(io.cwd, file);
  try {
    writeFileSync(target, html);
  } catch (err) {
    throw new InputError(`cannot write the report to ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'give a writable path, e.g. --report /tmp/flowtrace-report.html');
  }
  return target;
}
