/**
 * `flowtrace explain [FILE…|-] [--url URL] [--json] [--report FILE] [--lb-name ADDR=NAME[@ZONE]] [-v]`
 * The verdict from text users already ran (docs/explain.md). Exit codes as follow's.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { explain, type ExplainInput } from '../../explain/index.js';
import { renderExplainReading, renderTerminal } from '../../report/index.js';
import { EXIT, InputError, UsageError } from '../../errors.js';
import { redactionPolicy } from '../../redaction.js';
import type { CliIO } from '../io.js';
import { parseCommandArgs, parseLbNames } from '../args.js';
import { checkReportTarget, writeReport } from './follow.js';

const HELP = `usage: flowtrace explain [FILE…|-] [options]

Reads what you already ran — the output of nslookup, dig, host, traceroute, tracepath,
mtr --report/--json, curl -v/-w, and from the instance tcpdump -nn (-i any), ip link/addr/
route/neigh, iptables -L -n -v, iptables-save, ss -ltn, sysctl, docker ps — pasted in one
file or several (- or no FILE: stdin), with or without the shell prompts. It says which part
is which (line ranges; what it did not recognise), turns each into the evidence follow
collects, and prints follow's "What we proved" table and verdict; rows without evidence say
what to run. docs/explain.md lists every format.

options:
  --url URL             the URL the text is about, when no curl or name in it says
  --json                the whole result as JSON (follow's schema, source "explain")
  --report FILE         write the HTML report (self-contained) to FILE
  --lb-name ADDR=NAME[@ZONE]
                        name a load-balancer address (and its zone); repeatable
  --redact NAME         hide the value of header NAME too (docs/redaction.md); repeatable
  -v, --verbose         print every row's evidence under it
exit codes: as follow: 0 the application answered 2xx/3xx; 10 dns, 11 route, 12 load
balancer, 13 instance, 14 container path, 15 application, 16 not located; 2 usage;
3 unreadable input or --report not writable
`;

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('explain', {
    args,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      json: { type: 'boolean' },
      report: { type: 'string' },
      'lb-name': { type: 'string', multiple: true },
      redact: { type: 'string', multiple: true },
      verbose: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) { io.stdout(HELP); return EXIT.ok; }
  const redaction = redactionPolicy(values.redact ?? []);
  const { lbNames, lbZones } = parseLbNames(values['lb-name'] ?? []);
  if (values.report !== undefined) checkReportTarget(io, values.report);
  const files = positionals.length > 0 ? positionals : ['-'];
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('- (stdin) given twice', 'give stdin once, and the other texts as files');
  const inputs: ExplainInput[] = [];
  for (const f of files) {
    if (f === '-') {
      if ((io.stdin as { isTTY?: boolean }).isTTY === true) throw new UsageError('stdin is a terminal: nothing to read', 'paste into a file and give its name, or pipe it: pbpaste | flowtrace explain -');
      inputs.push({ source: '-', text: await readAll(io.stdin) });
      continue;
    }
    try {
      inputs.push({ source: f, text: readFileSync(path.resolve(io.cwd, f), 'utf8') });
    } catch (err) {
      throw new InputError(`cannot read ${f}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path (- reads stdin)');
    }
  }
  // The text may hold credentials (curl -v shows the request's headers): hidden by one policy.
  const result = redaction.redactDeep(await explain(inputs, { url: values.url ?? null, lbNames, lbZones }));
  if (values.report !== undefined) writeReport(io, values.report, result);
  if (values.json) {
    io.stdout(JSON.stringify(result, null, 2) + '\n');
  } else {
    const color = io.isTTY && !io.env.NO_COLOR;
    io.stdout(renderExplainReading(result, { color }));
    io.stdout(renderTerminal(result, { color, width: Math.min(120, process.stdout.columns || 100), verbose: values.verbose ?? false }));
    if (values.report !== undefined) io.stdout(`report: ${path.resolve(io.cwd, values.report)}\n`);
  }
  return result.verdict.exitCode;
}
