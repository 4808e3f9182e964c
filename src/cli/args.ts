/** Argument parsing shared by every command: node:util parseArgs, its errors as one-line usage errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

/**
 * parseArgs for `flowtrace COMMAND`. node:util's messages can span several lines; errors are
 * one line, so the first line is the message and its advice for values starting with '-'
 * (when it gives one) is the hint; otherwise the hint points at the command's --help.
 *
 * An unknown option is `unknown option '-L'`: node's own sentence goes on about positional
 * arguments after '--', which misleads someone who typed a curl or traceroute flag.
 * `unsupported` gives such flags their own hint (what flowtrace does instead). A one-letter
 * long option (`--c`, which node would take as -c) is refused, hinting "did you mean -c?".
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: string,
  config: T,
  hint?: string,
  unsupported: Readonly<Record<string, string>> = {},
): ReturnType<typeof parseArgs<T>> {
  // node takes `--c` as option c (or as unknown when c is only a short), where a tcpdump
  // user typed -c with one dash too many: refused, with the one-dash spelling as the hint.
  const oneDash = (raw: string): string | undefined => /^--.$/.test(raw) && Object.entries(config.options ?? {}).some(([name, o]) => name === raw[2] || o.short === raw[2])
    ? `did you mean -${raw[2]}? (one letter takes one dash)` : undefined;
  let parsed;
  try {
    parsed = parseArgs({ ...config, tokens: true });
  } catch (err) {
    const [first, ...rest] = (err as Error).message.split('\n');
    const helpHint = `run \`flowtrace ${command} --help\` for the options`;
    const unknown = (err as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? /^Unknown option '([^']+)'/.exec(first ?? '')?.[1] : undefined;
    if (unknown !== undefined) {
      throw new UsageError(`unknown option '${unknown}'`, (Object.hasOwn(unsupported, unknown) ? unsupported[unknown] : undefined) ?? oneDash(unknown) ?? hint ?? helpHint, { option: unknown });
    }
    const dashAdvice = rest.find((l) => l.startsWith('To specify an option argument'));
    throw new UsageError(first ?? 'bad arguments', hint ?? dashAdvice ?? helpHint);
  }
  const tokens = (parsed as { tokens?: { kind: string; rawName?: string }[] }).tokens ?? [];
  const oneLetterLong = tokens.find((t) => t.kind === 'option' && /^--.$/.test(t.rawName ?? ''))?.rawName;
  if (oneLetterLong !== undefined) throw new UsageError(`unknown option '${oneLetterLong}'`, oneDash(oneLetterLong), { option: oneLetterLong });
  return parsed as ReturnType<typeof parseArgs<T>>;
}

/** `--lb-name ADDR=NAME[@ZONE]` (follow, explain, watch): the names and zones given to load-balancer addresses. */
export function parseLbNames(specs: readonly string[]): { lbNames: Record<string, string>; lbZones: Record<string, string> } {
  const lbNames: Record<string, string> = {};
  const lbZones: Record<string, string> = {};
  for (const spec of specs) {
    const m = /^([^=]+)=([A-Za-z0-9._-]{1,32})(?:@([A-Za-z0-9._-]{1,32}))?$/.exec(spec);
    if (!m) throw new UsageError(`bad --lb-name '${spec}'`, 'ADDR=NAME or ADDR=NAME@ZONE, e.g. --lb-name 10.77.2.10=alb-b@eu-west-1b');
    lbNames[m[1]!] = m[2]!;
    if (m[3]) lbZones[m[1]!] = m[3];
  }
  return { lbNames, lbZones };
}
