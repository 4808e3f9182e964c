/** Argument parsing shared by every command: node:util parseArgs, its errors as one-line usage errors. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

/**
 * parseArgs for `flowtrace COMMAND`. node:util's messages can span several lines; errors are
 * one line, so the first line is the message and its advice for values starting with '-'
 * (when it gives one) is the hint; otherwise the hint points at the command's --help.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(command: string, config: T, hint?: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const [first, ...rest] = (err as Error).message.split('\n');
    const dashAdvice = rest.find((l) => l.startsWith('To specify an option argument'));
    throw new UsageError(first ?? 'bad arguments', hint ?? dashAdvice ?? `run \`flowtrace ${command} --help\` for the options`);
  }
}
