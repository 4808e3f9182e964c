/**
 * `flowtrace lab up [--json] | down | status [--json] | exec NODE -- CMD… | fault NAME |
 *  heal [NAME] | faults [--json] | log [--json]`
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { spawn } from 'node:child_process';
import { EXIT, FlowtraceError, LabError, PrivilegeError, UsageError } from '../../errors.js';
import type { CliIO } from '../io.js';
import {
  LAB, LAB_FAULTS, LAB_NODES, LAB_SSH, healFault, injectFault, labDown, labStatus, labUp, nsName, isLabNode, isLabFault, readAccessLog, sessionHeldByOther,
  labAwsSnapshot, type LabStatus,
} from '../../lab/index.js';
import { writeAwsConfigDir } from '../../aws/index.js';
import { PACKAGE_ROOT, selfCliArgv } from '../../self.js';

const USAGE = `usage: flowtrace lab SUBCOMMAND

  up [--json]           build the lab (idempotent; cleans up a previous run that was killed)
  down                  remove everything the lab created
  status [--json]       nodes, addresses, services, target health, active faults
  exec NODE -- CMD…     run a command inside a node, e.g. lab exec client -- curl -s http://${LAB.domain}/
  fault NAME            turn a fault on (see \`lab faults\`)
  heal [NAME]           turn one fault off, or all of them
  faults [--json]       the faults, one line each
  log [--json]          the ALB access log (both nodes)
  aws-config [DIR]      write the lab's configuration as the AWS CLI's describe outputs (with
                        the active faults) into DIR (default: ${LAB.runDir}/aws-config) and
                        print DIR: follow --aws-config "$(flowtrace lab aws-config)"

nodes: ${LAB_NODES.join(', ')} (namespace ft-NODE). Needs root.
`;

function renderStatus(s: LabStatus): string {
  const lines: string[] = [];
  lines.push(`lab: ${s.up ? 'up' : s.nodes.some((n) => n.exists) ? 'PARTLY UP (run `flowtrace lab up` to repair, or `lab down`)' : 'down'}${s.upSince ? ` since ${s.upSince}` : ''}`);
  if (!s.nodes.some((n) => n.exists) && !s.upSince) return lines.join('\n') + '\n';
  lines.push('');
  lines.push('nodes:');
  const addr: Record<string, string> = {
    client: LAB.client,
    dns: `${LAB.dnsServer} (dnsmasq: ${LAB.domain} A ${LAB.albA.public}, ${LAB.albB.public}, TTL ${LAB.dnsTtlSeconds})`,
    isp: `${LAB.routers.isp.lan} (hop 1)`,
    backbone: `${LAB.routers.backbone.toIsp} (hop 2)`,
    awsedge: `${LAB.routers.awsedge.toBackbone} (hop 3)`,
    'alb-a': `${LAB.albA.public} public, ${LAB.albA.vpc} in the VPC (zone a), listeners :80 :443`,
    'alb-b': `${LAB.albB.public} public, ${LAB.albB.vpc} in the VPC (zone b), listeners :80 :443`,
    vpc: `${LAB.vpcCidr} bridge (security group: bridge firewall)`,
    ec2: `ens5 ${LAB.instance.ens5} mtu ${LAB.instance.mtu}, docker0 ${LAB.docker0}, ${LAB.containerVeth} (Docker -p 80:8080), ${LAB.secondEni.ifname} ${LAB.secondEni.address}/${LAB.secondEni.prefixLength} (second ENI)`,
    container: `eth0 ${LAB.container.address}:${LAB.container.port} (app)`,
    bastion: `${LAB.bastion.public} public, ${LAB.bastion.vpc} in the VPC (sshd: ProxyJump to ec2's sshd on ${LAB.instance.ens5})`,
  };
  for (const n of s.nodes) lines.push(`  ${n.node.padEnd(10)} ${n.namespace.padEnd(13)} ${n.exists ? 'ok     ' : 'MISSING'} ${addr[n.node] ?? ''}`);
  lines.push('');
  lines.push('services:');
  for (const sv of s.services) lines.push(`  ${sv.name.padEnd(12)} in ${nsName(sv.node).padEnd(13)} ${sv.alive ? `running (pid ${sv.pid})` : 'not running'}  log ${sv.log}`);
  lines.push('');
  lines.push('target health:');
  for (const th of s.targetHealth) {
    const running = s.services.find((sv) => sv.name === th.node)?.alive ?? false;
    const t = !running ? 'node not running' : th.targets.map((x) => `${x.target} ${x.state}${x.reason ? ` (${x.reason})` : ''}`).join(', ') || 'no registered targets';
    lines.push(`  ${th.node}: ${t}`);
  }
  lines.push('');
  lines.push(`faults: ${s.faults.length ? s.faults.join(', ') : 'none'}`);
  if (s.sessionOwnerPid !== null && s.sessionOwnerPid !== process.pid) lines.push(`in use by pid ${s.sessionOwnerPid} (fault/heal/up wait for it; \`lab down\` forces)`);
  lines.push(`CA file: ${LAB.caFile}   access logs: ${LAB.accessLogs['alb-a']}, ${LAB.accessLogs['alb-b']}`);
  lines.push(`ssh (agentless, as user ${LAB_SSH.user}): FLOWTRACE_SSH_CONFIG=${LAB_SSH.config} flowtrace follow http://${LAB.domain}/ --server ${LAB_SSH.target}  (from ft-client)`);
  lines.push(`try: flowtrace lab exec client -- curl -s http://${LAB.domain}/`);
  return lines.join('\n') + '\n';
}

function renderFaults(active: readonly string[]): string {
  const width = Math.max(...Object.keys(LAB_FAULTS).map((k) => k.length));
  return Object.entries(LAB_FAULTS).map(([name, f]) =>
    `${active.includes(name) ? '*' : ' '} ${name.padEnd(width)}  [${f.layer}] ${f.description} → ${f.symptom}`).join('\n') + '\n';
}

/** A shell's exit codes for a command it cannot run (POSIX, "Command Search and Execution"). */
const SHELL_EXIT = { notFound: 127, notExecutable: 126 } as const;

/**
 * What a shell would say of CMD before running it: not found (127), or found but not
 * executable (126). A node shares this machine's files, and `ip netns exec` keeps PATH, so the
 * search here is the one ip's execvp does; ip itself would only say "exec of … failed", exit 1.
 * `cwd` is where the child runs (a relative path with a '/' is taken from there).
 */
function refuseUnrunnable(node: string, cmd: string, cwd: string, searchPath: string | undefined): void {
  const runnable = (file: string): 'ok' | 'missing' | 'directory' | 'not-executable' => {
    let st: fs.Stats;
    try { st = fs.statSync(file); } catch { return 'missing'; }
    if (st.isDirectory()) return 'directory';
    try { fs.accessSync(file, fs.constants.X_OK); return st.isFile() ? 'ok' : 'not-executable'; } catch { return 'not-executable'; }
  };
  const notExecutable = (file: string, why: string): FlowtraceError => new FlowtraceError('COMMAND_NOT_EXECUTABLE',
    `lab exec: ${cmd}: ${why} (in node ${node})`,
    `${why === 'is a directory' ? 'name a program' : `make it executable (chmod +x ${file}) or run it through its interpreter: flowtrace lab exec ${node} -- sh ${file}`}`,
    SHELL_EXIT.notExecutable, { node, command: cmd, file });
  if (cmd.includes('/')) {
    const file = path.resolve(cwd, cmd);
    const r = runnable(file);
    if (r === 'missing') throw new FlowtraceError('COMMAND_NOT_FOUND', `lab exec: ${cmd}: no such file (in node ${node})`, `a relative path is taken from ${cwd}: give an absolute path`, SHELL_EXIT.notFound, { node, command: cmd, file });
    if (r !== 'ok') throw notExecutable(file, r === 'directory' ? 'is a directory' : 'permission denied (not executable)');
    return;
  }
  let foundNotExecutable: string | null = null;
  for (const dir of (searchPath ?? '').split(':')) {
    const file = path.resolve(cwd, dir, cmd);
    const r = runnable(file);
    if (r === 'ok') return;
    if (r === 'not-executable') foundNotExecutable ??= file;
  }
  if (foundNotExecutable !== null) throw notExecutable(foundNotExecutable, `permission denied (${foundNotExecutable} is not executable)`);
  throw new FlowtraceError('COMMAND_NOT_FOUND', `lab exec: ${cmd}: command not found (in node ${node})`,
    'a node runs this machine\'s programs (same files and PATH): check the spelling, or install it here', SHELL_EXIT.notFound, { node, command: cmd });
}

/** Runs CMD in the node with the terminal attached; returns its exit code. */
function execInteractive(node: string, argv: string[], io: CliIO): Promise<number> {
  // `lab exec client -- flowtrace …` runs this flowtrace (the docs' examples work without
  // flowtrace on PATH, e.g. from a checkout or npx, and the version is the same).
  const command = argv[0] === 'flowtrace' ? [...selfCliArgv(), ...argv.slice(1)] : argv;
  refuseUnrunnable(node, command[0]!, PACKAGE_ROOT, process.env.PATH);
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', nsName(node as never), ...command], { stdio: 'inherit', cwd: PACKAGE_ROOT });
    const off = io.onInterrupt(() => { /* the child gets the terminal's Ctrl-C itself */ });
    child.on('error', (e) => { off(); io.stderr(`error[LAB_EXEC]: ${e.message}\nhint: check that iproute2 is installed\n`); resolve(EXIT.dependency); });
    // Killed by a signal: 128 + its number, as a shell reports it (SIGINT: 130, SIGTERM: 143).
    child.on('close', (code, signal) => { off(); resolve(code ?? (signal !== null && os.constants.signals[signal] !== undefined ? 128 + os.constants.signals[signal] : EXIT.failed)); });
  });
}

/** node:util parseArgs, with its errors turned into a usage error. */
function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    // node's advice on positionals after '--' misleads here (lab fault --bogus): cut it off.
    const first = (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument .*$/, '');
    throw new UsageError(`lab: ${first}`, 'run `flowtrace lab --help`');
  }
}

/** How long fault/heal wait for another process (a test run) that owns the lab. */
const CLI_WAIT_MS = 30_000;

/**
 * Runs a fault/heal that may wait for another owner of the lab: says so first (a silent
 * 30 s wait looks like a hang), and Ctrl-C while waiting stops it with nothing changed (130).
 */
async function whileWaiting<T>(io: CliIO, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const off = io.onInterrupt(() => ac.abort());
  try {
    const owner = process.getuid?.() === 0 ? sessionHeldByOther() : null;
    if (owner !== null) io.stderr(`lab is in use by pid ${owner.pid}; waiting for it to finish (up to ${CLI_WAIT_MS / 1000} s)…\n`);
    return await fn(ac.signal);
  } finally {
    off();
  }
}

/** An unknown fault name is a usage error at once, not after waiting for another owner of the lab. */
function requireKnownFault(name: string): void {
  if (!isLabFault(name)) {
    throw new UsageError(`unknown fault '${name}'`, `run \`flowtrace lab faults\` for the list: ${Object.keys(LAB_FAULTS).join(', ')}`, { fault: name });
  }
}

const JSON_OPT = { json: { type: 'boolean', default: false } } as const;

export async function run(args: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    io.stdout(USAGE);
    return sub === undefined ? EXIT.usage : EXIT.ok;
  }
  // `lab SUB --help` is the help, never the subcommand (`lab up --help` must not build the lab).
  // For exec only the word after `exec` counts: what follows the node is the command's own.
  const own = sub === 'exec' ? rest.slice(0, 1) : rest.slice(0, rest.includes('--') ? rest.indexOf('--') : rest.length);
  if (own.includes('--help') || own.includes('-h')) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  switch (sub) {
    case 'up': {
      const { values } = parse(rest, JSON_OPT);
      const ac = new AbortController();
      const off = io.onInterrupt(() => ac.abort());
      try {
        const owner = process.getuid?.() === 0 ? sessionHeldByOther() : null;
        if (owner !== null) io.stderr(`lab is in use by pid ${owner.pid}; waiting for it to finish (up to ${Number(io.env.FT_LAB_WAIT_S ?? 600)} s)…\n`);
        const t0 = performance.now();
        const s = await labUp({ signal: ac.signal });
        const ms = Math.round(performance.now() - t0);
        if (values.json) io.stdout(JSON.stringify(s, null, 2) + '\n');
        else io.stdout(`${s.alreadyUp ? 'lab already up' : `lab up in ${ms} ms`}\n\n${renderStatus(s)}`);
        return EXIT.ok;
      } finally {
        off();
      }
    }
    case 'down': {
      parse(rest, {});
      await labDown({ force: true });
      io.stdout('lab down: namespaces, processes, /etc/netns/ft-* and the run dir removed\n');
      return EXIT.ok;
    }
    case 'status': {
      const { values } = parse(rest, JSON_OPT);
      const s = labStatus();
      io.stdout(values.json ? JSON.stringify(s, null, 2) + '\n' : renderStatus(s));
      return s.up ? EXIT.ok : EXIT.lab;
    }
    case 'exec': {
      const dd = rest.indexOf('--');
      const node = rest[0];
      const cmd = dd === -1 ? rest.slice(1) : rest.slice(dd + 1);
      if (node === undefined || node === '--' || (dd !== -1 && dd !== 1)) throw new UsageError('lab exec needs a node', `flowtrace lab exec NODE -- CMD…   (nodes: ${LAB_NODES.join(', ')})`);
      if (!isLabNode(node)) throw new UsageError(`unknown lab node '${node}'`, `nodes: ${LAB_NODES.join(', ')}`);
      if (cmd.length === 0) throw new UsageError('lab exec needs a command', 'flowtrace lab exec NODE -- CMD [ARGS…]');
      if (typeof process.getuid === 'function' && process.getuid() !== 0) {
        throw new PrivilegeError('flowtrace lab exec', 'run as root (sudo flowtrace lab exec …)');
      }
      if (!labStatus().nodes.find((n) => n.node === node)?.exists) {
        throw new LabError('LAB_NOT_UP', `the lab is not up (namespace ${nsName(node)} does not exist)`, 'run `flowtrace lab up` first');
      }
      return execInteractive(node, cmd, io);
    }
    case 'fault': {
      const { positionals } = parse(rest, {}, true);
      if (positionals.length !== 1) throw new UsageError('lab fault needs one fault name', 'run `flowtrace lab faults` for the list');
      requireKnownFault(positionals[0]!);
      const active = await whileWaiting(io, (signal) => injectFault(positionals[0]!, { waitMs: CLI_WAIT_MS, signal }));
      const f = LAB_FAULTS[positionals[0] as keyof typeof LAB_FAULTS];
      io.stdout(`fault ${positionals[0]} on: ${f.description}\nexpect: ${f.symptom}\nactive faults: ${active.join(', ')}\n`);
      return EXIT.ok;
    }
    case 'heal': {
      const { positionals } = parse(rest, {}, true);
      if (positionals.length > 1) throw new UsageError('lab heal takes at most one fault name', 'flowtrace lab heal [NAME]');
      if (positionals[0] !== undefined) requireKnownFault(positionals[0]);
      const active = await whileWaiting(io, (signal) => healFault(positionals[0], { waitMs: CLI_WAIT_MS, signal }));
      io.stdout(`${positionals[0] ? `healed ${positionals[0]}` : 'healed every fault'}; active faults: ${active.length ? active.join(', ') : 'none'}\n`);
      return EXIT.ok;
    }
    case 'faults': {
      const { values } = parse(rest, JSON_OPT);
      const active = labStatus().faults;
      if (values.json) io.stdout(JSON.stringify(Object.entries(LAB_FAULTS).map(([name, f]) => ({ name, ...f, active: active.includes(name as never) })), null, 2) + '\n');
      else io.stdout(renderFaults(active));
      return EXIT.ok;
    }
    case 'log': {
      const { values } = parse(rest, JSON_OPT);
      const records = readAccessLog();
      if (values.json) io.stdout(JSON.stringify(records, null, 2) + '\n');
      else {
        for (const f of Object.values(LAB.accessLogs)) {
          try { io.stdout(fs.readFileSync(f, 'utf8')); } catch { /* not there */ }
        }
      }
      return EXIT.ok;
    }
    case 'aws-config': {
      const { positionals } = parse(rest, {}, true);
      if (positionals.length > 1) throw new UsageError('lab aws-config takes at most one folder', 'flowtrace lab aws-config [DIR]');
      const s = labStatus();
      const up = s.nodes.some((n) => n.exists);
      if (positionals[0] === undefined && !up) {
        throw new LabError('LAB_NOT_UP', 'the lab is not up: its run folder (the default place) does not exist', `run \`flowtrace lab up\` first, or give a folder: flowtrace lab aws-config DIR`);
      }
      const dir = path.resolve(io.cwd, positionals[0] ?? path.join(LAB.runDir, 'aws-config'));
      // The running nodes' target health: what describe-target-health would say now.
      const health = s.targetHealth.filter((t) => s.services.find((sv) => sv.name === t.node)?.alive).map((t) => t.targets);
      writeAwsConfigDir(dir, labAwsSnapshot({ faults: s.faults, targetHealth: health }));
      io.stdout(`${dir}\n`);
      return EXIT.ok;
    }
    default:
      throw new UsageError(`unknown lab subcommand '${sub}'`, 'flowtrace lab up | down | status | exec NODE -- CMD… | fault NAME | heal [NAME] | faults | log | aws-config [DIR]');
  }
}
