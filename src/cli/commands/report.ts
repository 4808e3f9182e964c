/**
 * `flowtrace report RESULT.json [-o FILE.html]`: the HTML report of a saved follow result
 * (`flowtrace follow … --json > RESULT.json`). `-` reads the result from stdin.
 * Exit codes: 0 written; 2 usage; 3 unreadable or not a follow result.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { FOLLOW_SCHEMA_VERSION, type FollowResult } from '../../follow/index.js';
import { renderHtmlReport } from '../../report/index.js';
import { EXIT, InputError, UsageError } from '../../errors.js';
import { redactionPolicy } from '../../redaction.js';
import type { CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { writeReportHtml } from './follow.js';

const HELP = `usage: flowtrace report RESULT.json [-o FILE.html]

Writes the self-contained HTML report (verdict, path map, packet ladder, timings) of a result
saved with \`flowtrace follow URL --json > RESULT.json\`. RESULT.json may be - (stdin).

options:
  -o, --output FILE   where to write (default: RESULT.html next to the input)
  --redact NAME       hide the value of header NAME too (the defaults — Authorization, Cookie…,
                      docs/redaction.md — are hidden again in any case); repeatable
exit codes: 0 written; 2 usage; 3 unreadable input or not a follow result (docs/report.md)
`;

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** Checks the parsed JSON is a follow result this version can draw. */
export function asFollowResult(value: unknown, where: string): FollowResult {
  const v = value as Partial<FollowResult> | null;
  if (!v || typeof v !== 'object' || v.schemaVersion === undefined || !v.verdict || !Array.isArray(v.verdict.rows)) {
    throw new InputError(`${where} is not a flowtrace follow result`, 'make one with: flowtrace follow URL --json > result.json');
  }
  if (v.schemaVersion !== FOLLOW_SCHEMA_VERSION) {
    throw new InputError(`${where} has schema version ${String(v.schemaVersion)}, this flowtrace reads version ${FOLLOW_SCHEMA_VERSION}`, 'run the report with the flowtrace version that wrote the result');
  }
  for (const key of ['dns', 'routes', 'requests', 'url'] as const) {
    if (v[key] === undefined) throw new InputError(`${where} lacks the field '${key}'`, 'make one with: flowtrace follow URL --json > result.json');
  }
  return v as FollowResult;
}

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('report', { args, allowPositionals: true, options: { output: { type: 'string', short: 'o' }, redact: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } } });
  const { values, positionals } = parsed;
  if (values.help) { io.stdout(HELP); return EXIT.ok; }
  if (positionals.length !== 1) throw new UsageError('report needs one RESULT.json', 'flowtrace report result.json -o report.html');
  const input = positionals[0]!;
  const redact = values.redact ?? [];
  redactionPolicy(redact); // a bad name is a usage error before anything is read
  if (input === '-' && values.output === undefined) throw new UsageError('reading stdin needs -o FILE.html', 'flowtrace follow URL --json | flowtrace report - -o report.html');
  const out = values.output ?? input.replace(/\.json$/i, '') + '.html';
  if (input !== '-' && path.resolve(io.cwd, out) === path.resolve(io.cwd, input)) {
    throw new UsageError(`-o ${out} is the input itself: the result would be overwritten by its report`, `give another file: flowtrace report ${input} -o ${input.replace(/\.json$/i, '')}.html`);
  }
  let text: string;
  try {
    text = input === '-' ? await readAll(io.stdin) : readFileSync(path.resolve(io.cwd, input), 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${input}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the path');
  }
  let json: unknown;
  try { json = JSON.parse(text); } catch (err) {
    throw new InputError(`${input} is not JSON: ${(err as Error).message}`, 'make one with: flowtrace follow URL --json > result.json');
  }
  // Hidden again as the report is drawn: a result saved by an older flowtrace (whose list was
  // shorter) or headers named only now (--redact) do not reach the HTML.
  const result = redactionPolicy(redact).redactDeep(asFollowResult(json, input));
  // The shape check above looks at the top level only: a result edited by hand, cut short and
  // closed again, or from a build with another layout can still fail deeper in the drawing.
  let html: string;
  try {
    html = renderHtmlReport(result);
  } catch (err) {
    throw new InputError(`${input} is not a complete follow result (drawing it failed: ${(err as Error).message})`, 'was it edited or cut short? make a new one with: flowtrace follow URL --json > result.json');
  }
  const written = writeReportHtml(io, out, html);
  io.stdout(`report: ${written}\n`);
  return EXIT.ok;
}
