/**
 * The user's side of the agent: `connectAgent(target)` starts the agent where it must run
 * and speaks the JSON-lines protocol with it. One interface, three transports — all child
 * processes with argv arrays; none opens a port:
 *
 *   local                  [...selfCliArgv(), 'agent']
 *   netns:NODE             ip netns exec ft-NODE [...selfCliArgv(), 'agent']   (a lab node; or
 *                          ip netns exec NODE … when a namespace of that exact name exists)
 *   ssh://user@host[:port] ssh -T -o BatchMode=yes [-p port] user@host sudo flowtrace agent
 *                          (ssh's authentication is the security; BatchMode: never a prompt);
 *                          over an open connection's master (remote/) when one is given
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { AgentError, UsageError } from '../errors.js';
import { redactionPolicy } from '../redaction.js';
import { selfCliArgv } from '../self.js';
import { inNamespace, systemRunner, type ProcessRunner } from '../capture/live/index.js';
import { parseSshTarget, sshBaseArgv, sshDestination } from '../remote/index.js';
import { LineSplitter } from './lines.js';
import {
  AGENT_PROTOCOL_VERSION, type AgentMessage, type ErrorMessage, type HelloMessage, type ResultMessage, type StartedMessage,
} from './protocol.js';

/** How long to wait for the agent's `hello` (ssh + sudo can take a while). */
export const CONNECT_TIMEOUT_MS = 20_000;
/** Incoming lines can carry base64 pcapng: bounded by the agent's byte cap × 4/3 plus JSON. */
const MAX_INCOMING_LINE_BYTES = 128 * 1024 * 1024;

export type AgentTarget =
  | { kind: 'local' }
  | { kind: 'netns'; namespace: string }
  | { kind: 'ssh'; user: string | null; host: string; port: number | null };

const NETNS_NAME = /^[A-Za-z0-9._-]{1,64}$/;
/** Parses `local`, `netns:NODE`, `ssh://user@host[:port]` (the ssh part: remote/'s parser). */
export function parseAgentTarget(text: string, netnsRoot = '/run/netns'): AgentTarget {
  if (text === 'local') return { kind: 'local' };
  if (text.startsWith('netns:')) {
    const node = text.slice('netns:'.length);
    if (!NETNS_NAME.test(node)) throw new UsageError(`bad namespace name in '${text}'`, 'e.g. netns:ec2 (the lab\'s ft-ec2) or netns:NAME from `ip netns list`');
    // A lab node name (`ec2`) means ft-ec2; an existing namespace of the exact name is used as is.
    const exact = fs.existsSync(`${netnsRoot}/${node}`);
    return { kind: 'netns', namespace: exact || node.startsWith('ft') ? node : `ft-${node}` };
  }
  if (text.startsWith('ssh://')) return { kind: 'ssh', ...parseSshTarget(text) };
  throw new UsageError(`unknown agent target '${text}'`, 'targets: local, netns:NODE (e.g. netns:ec2), ssh://user@host[:port]');
}

/**
 * The argv that starts the agent for a target (never a shell line on our side). For ssh,
 * `sshArgv` is an open connection's session argv (up to the remote command) to run it over.
 */
export function agentArgv(target: AgentTarget, options: { remoteCommand?: string[]; sshArgv?: readonly string[] } = {}): string[] {
  switch (target.kind) {
    case 'local': return [...selfCliArgv(), 'agent'];
    case 'netns': return inNamespace(target.namespace, [...selfCliArgv(), 'agent']);
    case 'ssh': {
      // ssh joins the remote words with spaces and gives them to the remote shell: only
      // fixed, plain words go there.
      const remote = options.remoteCommand ?? ['sudo', '-n', 'flowtrace', 'agent'];
      for (const w of remote) {
        if (!/^[A-Za-z0-9_./=-]+$/.test(w)) throw new UsageError(`remote command word '${w}' has characters a remote shell would interpret`, 'use plain words: a path and arguments without spaces or quotes');
      }
      if (options.sshArgv) return [...options.sshArgv, ...remote];
      return [...sshBaseArgv(target), sshDestination(target), '--', ...remote];
    }
  }
}

export interface StartOptions {
  interfaces?: string[];
  ports?: number[];
  traceId?: string | null;
  /**
   * More trace ids to look for in the same capture (with `traceId`, repeats dropped); the
   * result's `traces` has one entry per id. Needs an agent with `multiple-trace-ids`.
   */
  traceIds?: string[];
  maxDurationMs?: number;
  maxBytes?: number;
  pcapng?: boolean;
  /** Header names hidden besides the defaults (src/redaction.ts). Needs an agent with `redact-names`. */
  redact?: readonly string[];
}

export interface AgentClient {
  readonly hello: HelloMessage;
  readonly argv: readonly string[];
  readonly pid: number | null;
  /** Starts a capture; resolves once the agent listens. */
  start(options: StartOptions): Promise<StartedMessage>;
  /** Stops the capture and resolves with its result. */
  stop(): Promise<ResultMessage>;
  /** The result of a capture that ends by itself (a bound). */
  nextResult(): Promise<ResultMessage>;
  /** Sends one raw line (tests of the agent's validation). */
  sendRaw(line: string): void;
  /** The next message of any type (tests). */
  next(): Promise<AgentMessage>;
  /** Says bye, closes stdin, waits for the process to exit (kills it after a grace time). */
  close(): Promise<void>;
}

interface Waiter { accept: (m: AgentMessage) => boolean; resolve: (m: AgentMessage) => void; reject: (e: Error) => void }

export interface ConnectOptions {
  remoteCommand?: string[];
  /** For ssh: an open connection's session argv (remote/'s `SshConnection.sessionArgv()`), so the agent shares its master. */
  sshArgv?: readonly string[];
  /** Environment of the child (tests put a fake ssh first on PATH). */
  env?: NodeJS.ProcessEnv;
  connectTimeoutMs?: number;
  /** How the transport's child is started (tests script it). */
  runner?: ProcessRunner;
}

function transportFailure(target: AgentTarget, argv: readonly string[], stderr: string, code: number | null): AgentError {
  const line = stderr.trim().split('\n').filter((l) => l.trim() !== '').slice(-1)[0] ?? `exited with code ${code}`;
  if (target.kind === 'ssh') {
    const hint = /Permission denied|publickey/.test(stderr) ? 'ssh could not log in without a prompt: load your key (ssh-add) or set it in ~/.ssh/config'
      : /sudo:.*password|a password is required/.test(stderr) ? 'sudo asked for a password: allow `flowtrace agent` in sudoers with NOPASSWD for this user'
      : /flowtrace: (command )?not found/.test(stderr) ? 'install flowtrace on the remote host (npm install -g flowtrace) or pass the path of its binary'
      : /Could not resolve|Connection refused|timed out|No route/.test(stderr) ? 'check the host name and that sshd listens (ssh -v user@host)'
      : `try it by hand: ${argv.join(' ')}`;
    return new AgentError('AGENT_TRANSPORT', `ssh to ${target.host}: ${line}`, hint, { argv, stderr: stderr.slice(-2000) });
  }
  if (target.kind === 'netns') {
    const hint = /Cannot open network namespace|No such file/.test(stderr) ? 'the namespace does not exist: `ip netns list` (the lab: `flowtrace lab up`)'
      : /Operation not permitted|Permission denied/.test(stderr) ? 'entering a namespace needs root: sudo flowtrace …'
      : `try it by hand: ${argv.join(' ')}`;
    return new AgentError('AGENT_TRANSPORT', `agent in namespace ${target.namespace}: ${line}`, hint, { argv, stderr: stderr.slice(-2000) });
  }
  return new AgentError('AGENT_TRANSPORT', `local agent: ${line}`, `try it by hand: ${argv.join(' ')}`, { argv, stderr: stderr.slice(-2000) });
}

/** Starts the agent for `target` and waits for its `hello`. */
export async function connectAgent(targetText: string | AgentTarget, options: ConnectOptions = {}): Promise<AgentClient> {
  const target = typeof targetText === 'string' ? parseAgentTarget(targetText) : targetText;
  const argv = agentArgv(target, { remoteCommand: options.remoteCommand, sshArgv: options.sshArgv });
  const child: ChildProcess = (options.runner ?? systemRunner).start(argv, { stdin: 'pipe', env: options.env });
  let stderr = '';
  const queue: AgentMessage[] = [];
  const waiters: Waiter[] = [];
  let closedError: Error | null = null;

  const deliver = (m: AgentMessage): void => {
    const i = waiters.findIndex((w) => w.accept(m));
    if (i >= 0) { const [w] = waiters.splice(i, 1); w.resolve(m); } else queue.push(m);
  };
  const splitter = new LineSplitter(MAX_INCOMING_LINE_BYTES, (e) => {
    if (e.kind === 'oversized') return;
    let m: AgentMessage;
    try { m = JSON.parse(e.text) as AgentMessage; } catch { return; } // not ours (a banner on stdout)
    if (m && typeof m === 'object' && typeof (m as { type?: unknown }).type === 'string') deliver(m);
  });
  child.stdout!.on('data', (c: Buffer) => splitter.push(c));
  child.stderr!.setEncoding('utf8').on('data', (t: string) => { stderr = (stderr + t).slice(-16 * 1024); });
  child.stdin!.on('error', () => { /* the agent went away: reported through 'close' */ });
  const exited = new Promise<void>((resolve) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      closedError = err.code === 'ENOENT'
        ? new AgentError('AGENT_TRANSPORT', `${argv[0]} is not installed (or not on PATH)`, target.kind === 'ssh' ? 'install it: apt-get install openssh-client' : 'install it: apt-get install iproute2', { argv })
        : new AgentError('AGENT_TRANSPORT', `could not start the agent: ${err.message}`, `try it by hand: ${argv.join(' ')}`, { argv });
    });
    child.on('close', (code) => {
      splitter.end();
      if (!closedError) closedError = transportFailure(target, argv, stderr, code);
      for (const w of waiters.splice(0)) w.reject(closedError);
      resolve();
    });
  });

  function waitFor<T extends AgentMessage>(accept: (m: AgentMessage) => boolean, timeoutMs: number | null, what: string): Promise<T> {
    const i = queue.findIndex(accept);
    if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0] as T);
    if (closedError) return Promise.reject(closedError);
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const w: Waiter = {
        accept,
        resolve: (m) => { clearTimeout(timer); resolve(m as T); },
        reject: (e) => { clearTimeout(timer); reject(e); },
      };
      waiters.push(w);
      if (timeoutMs !== null) {
        timer = setTimeout(() => {
          const k = waiters.indexOf(w);
          if (k >= 0) waiters.splice(k, 1);
          reject(new AgentError('AGENT_TIMEOUT', `no ${what} from the agent within ${timeoutMs} ms`, `try it by hand: ${argv.join(' ')}`, { argv, stderr: stderr.slice(-2000) }));
        }, timeoutMs);
      }
    });
  }

  const send = (obj: unknown): void => {
    if (closedError || !child.stdin!.writable) throw closedError ?? new AgentError('AGENT_TRANSPORT', 'the agent has gone', 'start it again', {});
    child.stdin!.write(JSON.stringify(obj) + '\n');
  };
  const asError = (m: ErrorMessage): AgentError => new AgentError(`AGENT_${m.code}`, m.message, m.hint, { agentCode: m.code });

  let hello: HelloMessage;
  try {
    hello = await waitFor<HelloMessage>((m) => m.type === 'hello', options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS, 'hello');
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    throw err;
  }
  if (hello.protocol !== AGENT_PROTOCOL_VERSION) {
    child.kill('SIGTERM');
    await exited;
    throw new AgentError('AGENT_VERSION', `the agent speaks protocol ${hello.protocol}, this flowtrace speaks ${AGENT_PROTOCOL_VERSION}`, 'install the same flowtrace version on both sides', { agent: hello.agent });
  }

  let seq = 0;
  /** The id of the running capture's start request (results carry it). */
  let currentId: string | null = null;
  const isFor = (id: string, types: string[]) => (m: AgentMessage): boolean =>
    types.includes(m.type) && (m as { id: string | null }).id === id;
  const resultOf = async (id: string): Promise<ResultMessage> => {
    const m = await waitFor<ResultMessage | ErrorMessage>(isFor(id, ['result', 'error']), null, 'result');
    if (currentId === id) currentId = null;
    if (m.type === 'error') throw asError(m);
    return m;
  };

  return {
    hello,
    argv,
    pid: child.pid ?? null,
    async start(o: StartOptions): Promise<StartedMessage> {
      const traceIds = [...new Set([...(o.traceId ? [o.traceId] : []), ...(o.traceIds ?? [])])];
      // An agent of before `multiple-trace-ids` would answer BAD_FIELD: say what is missing.
      if (traceIds.length > 1 && !hello.capabilities.includes('multiple-trace-ids')) {
        throw new AgentError('AGENT_UNSUPPORTED', `the agent (${hello.agent}) looks for one trace id per capture, ${traceIds.length} were asked`,
          'update flowtrace where the agent runs, or ask for one trace id per capture', { agent: hello.agent, traceIds });
      }
      const redact = redactionPolicy(o.redact ?? []).added;
      // An agent of before `redact-names` would hide only the defaults: refuse rather than leak.
      if (redact.length > 0 && !hello.capabilities.includes('redact-names')) {
        throw new AgentError('AGENT_UNSUPPORTED', `the agent (${hello.agent}) cannot hide headers besides the defaults (--redact ${redact.join(', ')})`,
          'update flowtrace where the agent runs, or leave --redact out', { agent: hello.agent, redact });
      }
      const id = `c${++seq}`;
      send({
        type: 'start', id, interfaces: o.interfaces ?? ['any'], ports: o.ports ?? [], traceId: traceIds[0] ?? null,
        // Only when needed, so one trace id still works with any v1 agent.
        ...(traceIds.length > 1 ? { traceIds } : {}),
        ...(o.maxDurationMs !== undefined ? { maxDurationMs: o.maxDurationMs } : {}),
        ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
        pcapng: o.pcapng === true,
        ...(redact.length > 0 ? { redact } : {}),
      });
      const m = await waitFor<StartedMessage | ErrorMessage>(isFor(id, ['started', 'error']), CONNECT_TIMEOUT_MS, 'answer to start');
      if (m.type === 'error') throw asError(m);
      currentId = id;
      return m;
    },
    async stop(): Promise<ResultMessage> {
      if (currentId === null) throw new AgentError('AGENT_NOT_CAPTURING', 'no capture was started', 'call start() first', {});
      const id = currentId;
      send({ type: 'stop', id });
      return resultOf(id);
    },
    async nextResult(): Promise<ResultMessage> {
      if (currentId === null) throw new AgentError('AGENT_NOT_CAPTURING', 'no capture was started', 'call start() first', {});
      return resultOf(currentId);
    },
    sendRaw(line: string): void {
      if (closedError || !child.stdin!.writable) throw closedError ?? new AgentError('AGENT_TRANSPORT', 'the agent has gone', 'start it again', {});
      child.stdin!.write(line.endsWith('\n') ? line : line + '\n');
    },
    next(): Promise<AgentMessage> {
      return waitFor<AgentMessage>(() => true, CONNECT_TIMEOUT_MS, 'message');
    },
    async close(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) {
        try { send({ type: 'bye' }); } catch { /* gone already */ }
        child.stdin!.end();
        const timer = setTimeout(() => { child.kill('SIGTERM'); }, 10_000);
        await exited;
        clearTimeout(timer);
      } else {
        await exited;
      }
    },
  };
}
