/**
 * Real outputs, made at test time by the real tools in the lab's namespaces, pasted as a
 * terminal shows them: the command after a prompt, then what it printed (stdout and stderr
 * in one stream, as a terminal interleaves them). The client's commands run in ft-client,
 * the instance's in ft-ec2 (tcpdump runs there while the client's curl runs).
 */
import type { ChildProcess } from 'node:child_process';
import { labExec, spawnInLab } from '../../src/lab/index.js';

export interface Ran {
  command: string;
  output: string;
}

/** Runs `command` (a shell line) in a lab node; its output as a terminal shows it (2>&1). */
export async function inNode(node: 'client' | 'ec2' | 'container', command: string, timeoutMs = 30_000): Promise<Ran> {
  const r = await labExec(node, ['sh', '-c', `${command} 2>&1`], { timeoutMs });
  return { command, output: r.stdout };
}

/** A capture started in a node; `stop()` ends it with Ctrl-C (SIGINT) and gives all it printed. */
export interface RunningCapture {
  stop(): Promise<Ran>;
}

/**
 * Starts `tcpdump ARGS` in ft-ec2 and resolves once it is listening (its "listening on" line).
 * Its stdout and stderr are kept apart and joined as a terminal shows them: the start lines,
 * the packets, then the counts it prints on Ctrl-C.
 */
export async function startTcpdump(args: string[], node: 'ec2' = 'ec2'): Promise<RunningCapture> {
  const child: ChildProcess = spawnInLab(node, ['tcpdump', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => { out += b.toString('utf8'); });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tcpdump ${args.join(' ')} did not start: ${err}`)), 10_000);
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString('utf8');
      if (/listening on /.test(err)) { clearTimeout(timer); resolve(); }
    });
    child.on('close', () => { clearTimeout(timer); reject(new Error(`tcpdump exited: ${err}`)); });
  });
  return {
    async stop() {
      // Without --immediate-mode packets wait in the kernel's ring up to ~1 s (docs/lab-facts):
      // stopped sooner, tcpdump would not have printed them — as a person stops it seconds later.
      await new Promise((r) => setTimeout(r, 1200));
      child.kill('SIGINT');
      await closed;
      const [head, ...tail] = err.split(/(?=^\d+ packets? captured)/m);
      return { command: `tcpdump ${args.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}`, output: `${head}${out}${tail.join('')}` };
    },
  };
}

/** The runs as one pasted text: each command after a prompt of its node. */
export function paste(runs: Array<Ran & { prompt: string }>, withPrompts = true): string {
  return runs.map((r) => `${withPrompts ? `${r.prompt} ${r.command}\n` : ''}${r.output.replace(/\n*$/, '\n')}`).join('');
}

export const CLIENT = 'user@laptop:~$';
export const EC2 = 'root@ip-172-31-5-20:~#';
