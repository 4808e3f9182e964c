/**
 * The ProcessRunner that runs capture/live's and host/'s argv commands on the server, over
 * the connection's master: each argv is looked up in the command list (./commands.ts) —
 * anything else is refused here, before it is sent — its program replaced by the server's
 * path, `sudo -n` put first when it needs root and the user is not root, every word checked
 * and quoted. What sudo refused is remembered, so that one line can name the sudoers lines
 * that are missing.
 *
 * Commands asked for in the same turn of the event loop (host/ asks for a namespace's facts
 * all at once) go in one session: a batch script of fixed text runs them side by side, each
 * bounded by `timeout`, its output in a private `mktemp -d` directory, then prints them back
 * between markers made of a random token. One session instead of one per command: with 20 to
 * 40 commands per follow, the sessions' own cost (an ssh client here, a session and a login
 * shell there) was most of the time the host facts took.
 */
import { randomBytes } from 'node:crypto';
import type { PipedChild, ProcessRunner, ProgramResult } from '../capture/index.js';
import { findRemoteCommand, remoteCommands, type RemoteCommand, type RemoteProgram } from './commands.js';
import type { RemoteHost } from './preflight.js';
import type { SshConnection } from './ssh.js';
import { shellLine, shellWord } from './words.js';

export interface RemoteRunner extends ProcessRunner {
  /** Commands sudo refused so far, in the list's order. */
  refused(): RemoteCommand[];
  /** The remote command line an argv becomes, or a reason it is not sent. */
  commandLine(argv: readonly string[]): { line: string; words: string[]; command: RemoteCommand } | { refusal: string; missing: boolean };
}

/** How long a command may take by default (host facts pass their own bound). */
const REMOTE_RUN_TIMEOUT_MS = 10_000;
/** Commands in one batch at most (each is a process there, side by side). */
export const MAX_BATCH = 32;
/** `timeout`'s exit code when it ended the command. */
const TIMED_OUT = 124;

interface Pending {
  words: string[];
  command: RemoteCommand;
  timeoutMs: number;
  resolve: (r: ProgramResult) => void;
  reject: (e: unknown) => void;
}

/**
 * The batch script for commands (their words already checked): each runs in the background
 * under `timeout`, then each one's exit code, stdout and stderr are printed after a marker.
 */
export function batchScript(commands: ReadonlyArray<{ words: readonly string[]; timeoutMs: number }>, timeoutPath: string, token: string): string {
  const t = shellWord(timeoutPath);
  const runs = commands.map((c, i) => {
    const seconds = Math.max(1, Math.ceil(c.timeoutMs / 1000));
    return `(${t} -k 1 ${seconds} ${shellLine(c.words)} >"$d/${i}.o" 2>"$d/${i}.e" </dev/null; echo $? >"$d/${i}.c") &`;
  });
  const prints = commands.map((_, i) => `printf '\\n${token} ${i} %s\\n' "$(cat "$d/${i}.c" 2>/dev/null)"; cat "$d/${i}.o"; printf '\\n${token} ${i} e\\n'; cat "$d/${i}.e"`);
  return [
    'd=$(mktemp -d "${TMPDIR:-/tmp}/flowtrace.XXXXXX") || exit 125',
    'trap \'rm -rf "$d"\' EXIT HUP INT TERM',
    ...runs,
    'wait',
    ...prints,
  ].join('\n');
}

/** Splits a batch's output into each command's exit code, stdout and stderr (null where a part is missing). */
export function parseBatch(stdout: string, count: number, token: string): Array<{ code: number | null; stdout: string; stderr: string } | null> {
  const out: Array<{ code: number | null; stdout: string; stderr: string } | null> = Array.from({ length: count }, () => null);
  const parts = stdout.split(`\n${token} `);
  for (let p = 1; p < parts.length; p++) {
    const part = parts[p]!;
    const eol = part.indexOf('\n');
    const header = eol < 0 ? part : part.slice(0, eol);
    const body = eol < 0 ? '' : part.slice(eol + 1);
    const m = /^(\d+) (\d*|e)$/.exec(header);
    if (!m) continue;
    const i = Number(m[1]);
    if (i >= count) continue;
    if (m[2] === 'e') {
      if (out[i]) out[i]!.stderr = body;
    } else {
      const code = m[2] === '' ? null : Number(m[2]);
      out[i] = { code: code === TIMED_OUT ? null : code, stdout: body, stderr: '' };
    }
  }
  return out;
}

export function remoteRunner(conn: SshConnection, host: RemoteHost): RemoteRunner {
  const commands = remoteCommands(host.paths);
  const refused = new Set<RemoteCommand>();
  const asRoot = host.uid === 0;
  let queue: Pending[] = [];

  function commandLine(argv: readonly string[]): { line: string; words: string[]; command: RemoteCommand } | { refusal: string; missing: boolean } {
    const [program, ...args] = argv;
    const command = program === undefined ? null : findRemoteCommand(commands, program, args);
    if (command === null) {
      return { refusal: `flowtrace: '${argv.join(' ').slice(0, 200)}' is not one of the commands the agentless path runs (docs/agent.md)`, missing: false };
    }
    const path = host.paths[command.program as RemoteProgram];
    if (path === undefined) return { refusal: `${command.program}: not found on ${conn.label}`, missing: true };
    const words = [path, ...args];
    if (!command.privileged || asRoot) return { line: shellLine(words), words, command };
    if (host.sudo === null) return { refusal: `sudo: not installed on ${conn.label} (needed to run ${command.program} as root)`, missing: false };
    const sudoWords = [host.sudo, '-n', ...words];
    return { line: shellLine(sudoWords), words: sudoWords, command };
  }

  const settle = (p: Pending, r: { code: number | null; stdout: string; stderr: string }): void => {
    if (p.command.privileged && !asRoot && r.code !== 0 && /^sudo: /m.test(r.stderr)) refused.add(p.command);
    p.resolve({ code: r.code, stdout: r.stdout, stderr: r.stderr, missing: false });
  };

  async function runOne(p: Pending): Promise<void> {
    try {
      settle(p, await conn.exec(shellLine(p.words), { timeoutMs: p.timeoutMs }));
    } catch (err) {
      p.reject(err);
    }
  }

  async function runBatch(batch: Pending[]): Promise<void> {
    const token = `FTBATCH-${randomBytes(12).toString('hex')}`;
    const longest = Math.max(...batch.map((p) => p.timeoutMs));
    try {
      const r = await conn.exec(batchScript(batch, host.paths.timeout!, token), { timeoutMs: longest + 5000 });
      const results = parseBatch(r.stdout, batch.length, token);
      batch.forEach((p, i) => {
        const one = results[i];
        settle(p, one ?? { code: null, stdout: '', stderr: `flowtrace: no answer for this command in its batch (exit ${r.code}${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''})` });
      });
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  function flush(): void {
    const all = queue;
    queue = [];
    // Without timeout on the server (checked by the preflight), one session per command.
    if (all.length === 1 || host.paths.timeout === undefined) { for (const p of all) void runOne(p); return; }
    for (let i = 0; i < all.length; i += MAX_BATCH) {
      const batch = all.slice(i, i + MAX_BATCH);
      void (batch.length === 1 ? runOne(batch[0]!) : runBatch(batch));
    }
  }

  return {
    refused: () => commands.filter((c) => refused.has(c)),
    commandLine,
    run(argv, options = {}): Promise<ProgramResult> {
      const built = commandLine(argv);
      if ('refusal' in built) {
        return Promise.resolve(built.missing
          ? { code: null, stdout: '', stderr: built.refusal, missing: true }
          : { code: 126, stdout: '', stderr: built.refusal, missing: false });
      }
      return new Promise<ProgramResult>((resolve, reject) => {
        if (queue.length === 0) setImmediate(flush);
        queue.push({ words: built.words, command: built.command, timeoutMs: options.timeoutMs ?? REMOTE_RUN_TIMEOUT_MS, resolve, reject });
      });
    },
    start(argv): PipedChild {
      const built = commandLine(argv);
      if ('refusal' in built) throw new Error(built.refusal);
      return conn.spawn(built.line);
    },
  };
}
