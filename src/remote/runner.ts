/**
 * The ProcessRunner that runs capture/live's and host/'s argv commands on the server, over
 * the connection's master: each argv is looked up in the command list (./commands.ts) —
 * anything else is refused here, before it is sent — its program replaced by the server's
 * path, `sudo -n` put first when it needs root and the user is not root, every word checked
 * and quoted. What sudo refused is remembered, so that one line can name the sudoers lines
 * that are missing.
 */
import type { PipedChild, ProcessRunner, ProgramResult } from '../capture/index.js';
import { findRemoteCommand, remoteCommands, type RemoteCommand, type RemoteProgram } from './commands.js';
import type { RemoteHost } from './preflight.js';
import type { SshConnection } from './ssh.js';
import { shellLine } from './words.js';

export interface RemoteRunner extends ProcessRunner {
  /** Commands sudo refused so far, in the list's order. */
  refused(): RemoteCommand[];
  /** The remote command line an argv becomes, or a reason it is not sent. */
  commandLine(argv: readonly string[]): { line: string; command: RemoteCommand } | { refusal: string; missing: boolean };
}

/** How long a command may take by default (host facts pass their own bound). */
const REMOTE_RUN_TIMEOUT_MS = 10_000;

export function remoteRunner(conn: SshConnection, host: RemoteHost): RemoteRunner {
  const commands = remoteCommands(host.paths);
  const refused = new Set<RemoteCommand>();
  const asRoot = host.uid === 0;

  function commandLine(argv: readonly string[]): { line: string; command: RemoteCommand } | { refusal: string; missing: boolean } {
    const [program, ...args] = argv;
    const command = program === undefined ? null : findRemoteCommand(commands, program, args);
    if (command === null) {
      return { refusal: `flowtrace: '${argv.join(' ').slice(0, 200)}' is not one of the commands the agentless path runs (docs/agent.md)`, missing: false };
    }
    const path = host.paths[command.program as RemoteProgram];
    if (path === undefined) return { refusal: `${command.program}: not found on ${conn.label}`, missing: true };
    const words = [path, ...args];
    if (!command.privileged || asRoot) return { line: shellLine(words), command };
    if (host.sudo === null) return { refusal: `sudo: not installed on ${conn.label} (needed to run ${command.program} as root)`, missing: false };
    return { line: shellLine([host.sudo, '-n', ...words]), command };
  }

  return {
    refused: () => commands.filter((c) => refused.has(c)),
    commandLine,
    async run(argv, options = {}): Promise<ProgramResult> {
      const built = commandLine(argv);
      if ('refusal' in built) {
        return built.missing
          ? { code: null, stdout: '', stderr: built.refusal, missing: true }
          : { code: 126, stdout: '', stderr: built.refusal, missing: false };
      }
      const r = await conn.exec(built.line, { timeoutMs: options.timeoutMs ?? REMOTE_RUN_TIMEOUT_MS });
      if (built.command.privileged && !asRoot && r.code !== 0 && /^sudo: /m.test(r.stderr)) refused.add(built.command);
      return { code: r.code, stdout: r.stdout, stderr: r.stderr, missing: false };
    },
    start(argv): PipedChild {
      const built = commandLine(argv);
      if ('refusal' in built) throw new Error(built.refusal);
      return conn.spawn(built.line);
    },
  };
}
