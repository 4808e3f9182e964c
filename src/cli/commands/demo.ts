/**
 * `flowtrace demo [--fault NAME] [--keep] [--out DIR] [--no-https]`: the README's first command.
 *
 * lab up → (inject the fault) → `flowtrace follow http://seqas.online/` and `https://` run
 * INSIDE the lab's client namespace (probes must leave from the client) with the agent in the
 * lab's ec2, and `http://` once more over ssh through the bastion, agentless (sshd on the
 * instance, nothing of flowtrace there) → the verdict tables and the stitched path, whether
 * the two server sides agree → the HTML and JSON reports → lab down, also on failure and
 * Ctrl-C. A lab that was already up (someone else's) is left as found.
 *
 * Exit code: the verdict's of the http:// walk (0 healthy; 10–16 the failing layer with a
 * fault), 7 when the lab cannot be built, 130 on Ctrl-C.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { labUp, labDown, injectFault, healFault, LAB, LAB_FAULTS, LAB_SSH, isLabFault, nsName, sessionHeldByOther } from '../../lab/index.js';
import type { FollowResult } from '../../follow/index.js';
import { renderTerminal } from '../../report/index.js';
import { selfCliArgv } from '../../self.js';
import { EXIT, InputError, PrivilegeError, UsageError } from '../../errors.js';
import type { CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { writeReport } from './follow.js';

const HELP = `usage: flowtrace demo [--fault NAME] [--keep] [--out DIR] [--no-https]

Builds the lab (the seed's architecture in network namespaces), follows a request to
http://${LAB.domain}/ and https://${LAB.domain}/ from the lab's client with the agent on the lab's
EC2 instance, and http:// once more over ssh (through the bastion, agentless: only sshd, sudo
and tcpdump on the instance), prints the verdicts and the stitched path, writes the HTML
reports, and tears the lab down (also on failure or Ctrl-C). Needs root.

options:
  --fault NAME   inject one lab fault first and show the diagnosis (\`flowtrace lab faults\`)
  --keep         leave the lab up afterwards (\`flowtrace lab down\` removes it)
  --out DIR      where the reports go (default ./flowtrace-demo)
  --no-https     no https:// walk
  --no-ssh       no walk over ssh
exit codes: the verdict's of the http:// walk (0 healthy; 10–16 the failing layer),
3 --out DIR cannot be created, 7 lab, 130 Ctrl-C
`;

interface Walk { url: string; server: string; result: FollowResult | null; error: string | null }

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('demo', {
    args, allowPositionals: false,
    options: {
      fault: { type: 'string' },
      keep: { type: 'boolean' },
      out: { type: 'string' },
      'no-https': { type: 'boolean' },
      'no-ssh': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const { values } = parsed;
  if (values.help) { io.stdout(HELP); return EXIT.ok; }
  const fault = values.fault ?? null;
  if (fault !== null && !isLabFault(fault)) {
    throw new UsageError(`unknown fault '${fault}'`, `faults: ${Object.keys(LAB_FAULTS).join(', ')}`);
  }
  const outDir = path.resolve(io.cwd, values.out ?? 'flowtrace-demo');
  const color = io.isTTY && !io.env.NO_COLOR;
  const bold = (s: string): string => (color ? `\x1b[1m${s}\x1b[0m` : s);
  const dim = (s: string): string => (color ? `\x1b[2m${s}\x1b[0m` : s);

  let child: ChildProcess | null = null;
  let interrupted = false;
  const controller = new AbortController();
  const off = io.onInterrupt(() => {
    interrupted = true;
    controller.abort();
    if (child?.pid) { try { process.kill(child.pid, 'SIGTERM'); } catch { /* already gone */ } }
  });
  let builtByUs = false;
  // Before the first line of output: a refusal is one error, not a demo that starts and stops.
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    off();
    throw new PrivilegeError('flowtrace demo', 'the demo builds the lab (network namespaces): run it as root (sudo flowtrace demo)');
  }
  // The reports' folder before the lab: a bad --out is one error, not a built lab and two walks
  // ending in an internal error.
  try {
    createFolder(outDir);
  } catch (err) {
    off();
    throw new InputError(`cannot create the report folder ${outDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'give a folder you can write: --out /tmp/flowtrace-demo');
  }
  try {
    io.stdout(bold(`flowtrace demo${fault ? ` — fault ${fault}: ${LAB_FAULTS[fault as keyof typeof LAB_FAULTS].description}` : ''}`) + '\n');
    io.stdout(dim('  building the lab (network namespaces: client, dns, 3 routers, 2 ALB nodes, VPC, EC2 with Docker\'s rules and sshd, container, bastion)…') + '\n');
    const owner = sessionHeldByOther();
    if (owner !== null) io.stderr(`lab is in use by pid ${owner.pid}; waiting for it to finish (up to ${Number(io.env.FT_LAB_WAIT_S ?? 600)} s)…\n`);
    const t0 = performance.now();
    const status = await labUp({ signal: controller.signal });
    builtByUs = !status.alreadyUp;
    io.stdout(dim(`  lab ${status.alreadyUp ? 'was already up (it will be left up)' : `up in ${Math.round(performance.now() - t0)} ms`}`) + '\n');
    if (fault) {
      await injectFault(fault);
      io.stdout(dim(`  fault injected: ${fault}`) + '\n');
    }
    const plan: Array<{ url: string; server: string; how: string }> = [
      { url: `http://${LAB.domain}/`, server: 'netns:ec2', how: `agent in ${nsName('ec2')}` },
      ...(values['no-https'] ? [] : [{ url: `https://${LAB.domain}/`, server: 'netns:ec2', how: `agent in ${nsName('ec2')}` }]),
      ...(values['no-ssh'] ? [] : [{ url: `http://${LAB.domain}/`, server: LAB_SSH.target, how: `agentless over ssh as ${LAB_SSH.user}, through ${nsName('bastion')}` }]),
    ];
    const walks: Walk[] = [];
    for (const p of plan) {
      if (interrupted) break;
      io.stdout(dim(`  following ${p.url} from ${nsName('client')} (${p.how})…`) + '\n');
      const w = await followInClient(p.url, p.server, (c) => { child = c; });
      child = null;
      walks.push(w);
    }
    if (interrupted) {
      io.stderr(`error[INTERRUPTED]: the demo was interrupted\nhint: ${builtByUs && !values.keep ? 'the lab it built is taken down now' : 'the lab is left up as it was'}\n`);
      return EXIT.interrupted;
    }

    const tag = fault ?? 'healthy';
    const written: string[] = [];
    for (const w of walks) {
      io.stdout('\n');
      if (!w.result) {
        io.stdout(`${bold(`${w.url} --server ${w.server}`)}: the walk did not complete: ${w.error}\n`);
        continue;
      }
      // The first walk in full (route, stitched path, packets); the next ones as their table.
      io.stdout(renderTerminal(w.result, { color, width: Math.min(120, process.stdout.columns || 100), compact: w !== walks[0] }));
      const overSsh = w.server.startsWith('ssh://');
      if (overSsh && walks[0]?.result) io.stdout(agreement(walks[0].result, w.result) + '\n');
      const name = `${tag}-${w.result.scheme}${overSsh ? '-ssh' : ''}`;
      const json = path.join(outDir, `${name}.json`);
      writeFileSync(json, JSON.stringify(w.result, null, 2) + '\n');
      written.push(writeReport(io, path.join(outDir, `${name}.html`), w.result), json);
    }
    io.stdout('\n' + bold('reports') + '\n' + written.map((f) => `  ${f}`).join('\n') + '\n');
    const first = walks[0]?.result;
    if (!first) throw new InputError(`the walk did not complete: ${walks[0]?.error ?? 'no result'}`, 'run `flowtrace lab status` and try `flowtrace follow` by hand inside the lab: flowtrace lab exec client -- flowtrace follow http://seqas.online/');
    return first.verdict.exitCode;
  } finally {
    off();
    if (fault && (!builtByUs || values.keep)) await healFault(fault).catch(() => {});
    if (builtByUs && !values.keep) {
      io.stdout(dim('  tearing the lab down…') + '\n');
      await labDown().catch((err: unknown) => io.stderr(`warning: lab down failed: ${(err as Error).message}\n`));
    } else if (values.keep) {
      io.stdout(dim('  the lab is still up (--keep): `flowtrace lab down` removes it') + '\n');
    }
  }
}

/**
 * mkdir -p, one level at a time: Node 20's recursive mkdirSync spins forever where mkdir
 * answers ENOENT for a parent that exists (/proc), and Ctrl-C cannot stop a synchronous loop.
 */
export function createFolder(dir: string): void {
  const missing: string[] = [];
  let p = dir;
  while (!existsSync(p)) {
    missing.unshift(p);
    const parent = path.dirname(p);
    if (parent === p) break;
    p = parent;
  }
  for (const m of missing) mkdirSync(m);
  if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  accessSync(dir, fsConstants.W_OK);
}

/** One line: whether the walk over ssh read the server side as the agent did (verdict, failing layer, cause). */
function agreement(agent: FollowResult, ssh: FollowResult): string {
  const key = (r: FollowResult): string => `exit ${r.verdict.exitCode}, ${r.verdict.firstFailing ?? 'no failing layer'}${r.verdict.causeId ? `, ${r.verdict.causeId}` : ''}`;
  return key(agent) === key(ssh)
    ? `  agentless over ssh read the same as the agent: ${key(ssh)}`
    : `  agentless over ssh read otherwise than the agent: ${key(ssh)} (agent: ${key(agent)})`;
}

/** Runs `flowtrace follow URL --server SERVER --json` inside the lab's client namespace. */
function followInClient(url: string, server: string, onChild: (c: ChildProcess) => void): Promise<Walk> {
  const argv = [
    'ip', 'netns', 'exec', nsName('client'), 'env', `FLOWTRACE_SSH_CONFIG=${LAB_SSH.config}`,
    ...selfCliArgv(), 'follow', url, '--server', server, '--json',
    '--lb-name', `${LAB.albA.public}=alb-a@${LAB.albA.zone}`, '--lb-name', `${LAB.albB.public}=alb-b@${LAB.albB.zone}`,
    ...(url.startsWith('https:') ? ['--cacert', LAB.caFile] : []),
  ];
  return new Promise((resolve) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    onChild(c);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout!.on('data', (b: Buffer) => out.push(b));
    c.stderr!.on('data', (b: Buffer) => err.push(b));
    c.on('error', (e) => resolve({ url, server, result: null, error: e.message }));
    c.on('close', (code) => {
      const text = Buffer.concat(out).toString('utf8');
      try {
        resolve({ url, server, result: JSON.parse(text) as FollowResult, error: null });
      } catch {
        const msg = Buffer.concat(err).toString('utf8').trim().split('\n').slice(-2).join(' ') || `exit code ${code}`;
        resolve({ url, server, result: null, error: msg });
      }
    });
  });
}
