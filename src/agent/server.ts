/**
 * `flowtrace agent`: the server side of the JSON-lines protocol (./protocol.ts), on any
 * pair of streams (stdin/stdout in production).
 *
 * State (one capture at a time):
 *   1. idle       --start (valid)-->  capturing    reply `started`
 *   2. capturing  --stop-->           idle         reply `result` (after tcpdump's flush)
 *   3. capturing  --bound reached-->  idle         reply `result` unasked (stoppedBy says which)
 *   4. any        --bad line-->       same state   reply `error`
 *   5. any        --bye / EOF-->      closed       a running capture is stopped and its `result` sent first
 *
 * While capturing, the agent writes nothing between `started` and `result`; with
 * `keepaliveMs` it sends an empty line that often, so a controller that went away (its read
 * end closed: ssh dropped, the parent died) shows as a failed write soon — the CLI then
 * interrupts the agent, which ends tcpdump — instead of at the capture's time cap.
 */
import type { Readable } from 'node:stream';
import { isFlowtraceError } from '../errors.js';
import { startCapture, readLinks, requireCaptureTools, type LiveCapture, type LiveCaptureOptions, type LinkInfo, type VethAttribution, describeAttribution } from '../capture/live/index.js';
import {
  AGENT_CAPABILITIES, AGENT_LIMITS, AGENT_PROTOCOL_VERSION, parseClientLine, filterForPorts,
  type AgentMessage, type ErrorMessage, type HelloMessage, type StartRequest,
} from './protocol.js';
import { LineSplitter } from './lines.js';
import { buildResult, capturedPorts } from './result.js';
import { createHostFacts, type HostFactsOptions, type HostFactsSession } from '../host/index.js';

export interface AgentOptions {
  input: Readable;
  /** Where the agent's lines go (the CLI passes its stdout). */
  output: (text: string) => void;
  /** Seams for tests. */
  startCapture?: (options: LiveCaptureOptions) => Promise<LiveCapture>;
  readLinks?: () => Promise<LinkInfo[]>;
  agentVersion?: string;
  /** Resolves to stop the agent as on EOF (SIGINT/SIGTERM, stdout closed in the CLI). */
  interrupted?: Promise<void>;
  /** While a capture runs, send an empty line this often (null/absent: never). */
  keepaliveMs?: number | null;
  /** Host facts read at start and stop (default: the real ones, here); null: none (the result's `host` is null). */
  hostFacts?: ((options: HostFactsOptions) => HostFactsSession) | null;
}

/**
 * The CLI's keep-alive while capturing: a closed stdout is noticed within this (clients skip
 * empty lines; docs/agent.md).
 */
export const AGENT_KEEPALIVE_MS = 1000;

type AgentState =
  | { kind: 'idle' }
  | { kind: 'capturing'; request: StartRequest; capture: LiveCapture }
  | { kind: 'closed' };

function errorMessage(id: string | null, err: unknown): ErrorMessage {
  if (isFlowtraceError(err)) return { type: 'error', id, code: err.code, message: err.message, hint: err.hint };
  const message = err instanceof Error ? err.message : String(err);
  return { type: 'error', id, code: 'INTERNAL', message, hint: 'this is a bug in flowtrace; please report it' };
}

/** Runs the agent until `bye`, the end of input, or an interrupt. Resolves with the exit code. */
export async function runAgent(options: AgentOptions): Promise<number> {
  const start = options.startCapture ?? startCapture;
  const links = options.readLinks ?? (() => readLinks(null));
  let state: AgentState = { kind: 'idle' };
  let closing = false;
  let bye = false;
  let pending: Promise<void> = Promise.resolve(); // messages are handled one after the other

  const send = (m: AgentMessage): void => { options.output(JSON.stringify(m) + '\n'); };

  async function hello(): Promise<HelloMessage> {
    let list: LinkInfo[] = [];
    let veths: VethAttribution[] = [];
    try { list = await links(); } catch { /* an agent without `ip` still answers; start will say why */ }
    try {
      const { attributeVeths } = await import('../capture/live/attribution.js');
      veths = (await attributeVeths(list, '/proc/self/ns/net')).veths;
    } catch { /* attribution is a nicety */ }
    return {
      type: 'hello',
      protocol: AGENT_PROTOCOL_VERSION,
      agent: `flowtrace ${options.agentVersion ?? '0.1.0'}`,
      capabilities: [...AGENT_CAPABILITIES],
      interfaces: list.map((l) => {
        const v = veths.find((x) => x.vethIfindex === l.ifindex);
        return { name: l.name, index: l.ifindex, kind: l.kind, master: l.master, operstate: l.operstate, peer: v ? describeAttribution(v) : null };
      }),
      limits: {
        maxLineBytes: AGENT_LIMITS.maxLineBytes,
        defaultDurationMs: AGENT_LIMITS.defaultDurationMs,
        maxDurationMs: AGENT_LIMITS.maxDurationMs,
        defaultCaptureBytes: AGENT_LIMITS.defaultCaptureBytes,
        maxCaptureBytes: AGENT_LIMITS.maxCaptureBytes,
      },
      privileged: typeof process.getuid === 'function' ? process.getuid() === 0 : false,
    };
  }

  /** Sends the result of a finished capture (once), and goes back to idle. */
  async function finish(request: StartRequest, capture: LiveCapture, facts: HostFactsSession | null): Promise<void> {
    const keepalive = options.keepaliveMs != null ? setInterval(() => options.output('\n'), options.keepaliveMs) : undefined;
    try {
      const result = await capture.done;
      send(await buildResult(request, capture, result, facts));
    } catch (err) {
      send(errorMessage(request.id, err));
    } finally {
      clearInterval(keepalive);
    }
    if (state.kind === 'capturing' && state.capture === capture) state = closing ? { kind: 'closed' } : { kind: 'idle' };
  }

  let finishing: Promise<void> = Promise.resolve();

  async function handleStart(req: StartRequest): Promise<void> {
    if (state.kind === 'capturing') {
      send({ type: 'error', id: req.id, code: 'BUSY', message: 'a capture is already running', hint: 'send {"type":"stop"} first' });
      return;
    }
    let capture: LiveCapture;
    let facts: HostFactsSession | null = null;
    try {
      // Without the seams, a missing tcpdump is said before a missing ip (links() needs ip).
      if (options.startCapture === undefined && options.readLinks === undefined) requireCaptureTools();
      const list = await links();
      const unknown = req.interfaces.filter((n) => n !== 'any' && !list.some((l) => l.name === n));
      if (unknown.length > 0) {
        send({ type: 'error', id: req.id, code: 'UNKNOWN_INTERFACE', message: `no interface named ${unknown.join(', ')}`, hint: `interfaces here: any, ${list.map((l) => l.name).join(', ')}` });
        return;
      }
      // The counters before the capture: what rises while it runs is what the request did.
      const makeFacts = options.hostFacts === undefined ? createHostFacts : options.hostFacts;
      if (makeFacts !== null) {
        facts = makeFacts({});
        await facts.start();
      }
      capture = await start({
        interfaces: req.interfaces,
        filter: filterForPorts(req.ports),
        followNat: true,
        maxDurationMs: req.maxDurationMs,
        maxCapturedBytes: req.maxBytes,
        // Kept packets stay within the live capture's memory budget (bytes + a per-packet
        // overhead): 64 MiB of small packets costs several times 64 MiB of memory.
        keepPackets: true,
        links: list,
      });
    } catch (err) {
      send(errorMessage(req.id, err));
      return;
    }
    state = { kind: 'capturing', request: req, capture };
    send({
      type: 'started', id: req.id, interfaces: req.interfaces, filter: capture.effectiveFilter, notes: capture.notes,
      maxDurationMs: req.maxDurationMs, maxBytes: req.maxBytes, traceIds: req.traceIds, enginePid: capture.pid,
      ports: capturedPorts(req, capture),
    });
    finishing = finish(req, capture, facts);
  }

  async function handle(line: string): Promise<void> {
    const parsed = parseClientLine(line);
    if (!parsed.ok) { send(parsed.error); return; }
    const m = parsed.value;
    switch (m.type) {
      case 'hello': send(await hello()); return;
      case 'start': await handleStart(m); return;
      case 'stop':
        if (state.kind !== 'capturing') {
          send({ type: 'error', id: m.id, code: 'NOT_CAPTURING', message: 'no capture is running', hint: 'send {"type":"start",…} first' });
          return;
        }
        void state.capture.stop();
        await finishing;
        return;
      case 'bye':
        bye = true;
        closing = true;
        return;
    }
  }

  send(await hello());

  await new Promise<void>((resolve) => {
    const splitter = new LineSplitter(AGENT_LIMITS.maxLineBytes, (e) => {
      if (e.kind === 'oversized') {
        pending = pending.then(() => send({ type: 'error', id: null, code: 'OVERSIZED', message: `line longer than ${AGENT_LIMITS.maxLineBytes} bytes`, hint: 'send one small JSON object per line' }));
        return;
      }
      // Lines after `bye` are not handled; lines before the end of input all are.
      pending = pending.then(() => (bye ? undefined : handle(e.text))).then(() => { if (bye) resolve(); });
    });
    options.input.on('data', (chunk: Buffer) => { if (!bye) splitter.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk)); });
    options.input.on('end', () => { splitter.end(); pending.then(() => { closing = true; resolve(); }, () => resolve()); });
    options.input.on('error', () => { closing = true; resolve(); });
    void options.interrupted?.then(() => { closing = true; resolve(); });
  });

  // Closing: a running capture is stopped and its result sent before we go.
  const current = state as AgentState;
  if (current.kind === 'capturing') {
    void current.capture.stop();
    await finishing;
  }
  await pending.catch(() => {});
  state = { kind: 'closed' };
  options.input.pause();
  return 0;
}
