/**
 * Running `flowtrace follow` the way a user does in the lab: from the client's namespace,
 * with the agent in ft-ec2, as a child process (the CLI, its exit code, its --json).
 * Shared by the fault matrix (lab faults) and the raw-fault test (faults the lab does not know).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LAB, LAB_SSH, labFollowArgs, nsName } from '../../src/lab/index.js';
import { selfCliArgv } from '../../src/self.js';
import type { FollowResult } from '../../src/follow/index.js';

export interface FollowRun { code: number | null; result: FollowResult | null; stderr: string }

/**
 * `servers`: the server sides (`--server`), by default an agent in each target's namespace;
 * `ssh://…` ones (LAB_SSH.targets) read the lab's ssh_config, as an operator's flowtrace does.
 */
export function followInClient(url = `http://${LAB.domain}/`, extra: string[] = [], servers?: readonly string[]): Promise<FollowRun> {
  const ssh = servers?.some((s) => s.startsWith('ssh://')) ? ['env', `FLOWTRACE_SSH_CONFIG=${LAB_SSH.config}`] : [];
  const argv = ['ip', 'netns', 'exec', nsName('client'), ...ssh, ...selfCliArgv(), 'follow', url, '--json', '--timeout', '5', ...labFollowArgs(servers), ...extra];
  return new Promise((resolve) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (b: Buffer) => out.push(b));
    c.stderr.on('data', (b: Buffer) => err.push(b));
    c.on('close', (code) => {
      let result: FollowResult | null = null;
      try { result = JSON.parse(Buffer.concat(out).toString('utf8')) as FollowResult; } catch { /* reported by the caller */ }
      resolve({ code, result, stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/**
 * `flowtrace lab aws-config`: the lab's configuration as the AWS CLI's outputs, with the
 * faults active now, written to the lab's run folder; returns the folder it printed.
 */
export function labAwsConfig(): string {
  const argv = selfCliArgv();
  const r = spawnSync(argv[0]!, [...argv.slice(1), 'lab', 'aws-config'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`flowtrace lab aws-config: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
  return r.stdout.trim();
}

/** Runs a command in a lab node (argv, no shell); throws with its stderr when it fails. */
export function inNode(node: string, argv: string[], input?: string): void {
  const r = spawnSync('ip', ['netns', 'exec', nsName(node as never), ...argv], { encoding: 'utf8', input, timeout: 10_000 });
  if (r.status !== 0) throw new Error(`${node}: ${argv.join(' ')}: ${r.stderr || r.error?.message || `exit ${r.status}`}`);
}

/** The PID of a lab service (from the lab's state file). */
export function servicePid(name: string): number {
  const state = JSON.parse(readFileSync(`${LAB.runDir}/state.json`, 'utf8')) as { processes: Record<string, { pid: number }> };
  const pid = state.processes[name]?.pid;
  if (!pid) throw new Error(`no ${name} in the lab's state`);
  return pid;
}

/** One line per run, for the summary a failing assertion prints. */
export function verdictLine(name: string, run: FollowRun): string {
  const v = run.result?.verdict;
  if (!v) return `${name}: no result (${run.stderr.trim().split('\n').pop()})`;
  return `${name} → ${v.firstFailing ?? 'none'} / ${v.causeId ?? 'healthy'} / ${v.direction ?? '-'}${v.partial ? ' (partial)' : ''} (exit ${run.code}): ${v.cause ?? v.headline}`;
}
