/**
 * The server side of a walk, whichever way it runs — one interface, two modes, the same
 * reading (flow's analysis of the capture and the host's facts):
 *
 *  - agent: `flowtrace agent` where the packets are (local, `netns:NODE`, or over ssh), driven
 *    with the JSON-lines protocol (./client.ts);
 *  - agentless (ssh only): nothing of flowtrace on the server. tcpdump runs there over the
 *    ssh connection and its pcap stream is analysed here; the host facts are read there with
 *    the same argv commands the agent runs (remote/ gives the runner, the engine and the
 *    namespace source; capture/live and host/ do the work exactly as in the agent).
 *
 * Mode `auto` (the default for ssh): the agent when `flowtrace` is on the server and sudo
 * allows `flowtrace agent`, else agentless. One ssh connection (remote/'s master) carries
 * the check, the agent or every command of the agentless path.
 */
import { UsageError } from '../errors.js';
import { readLinks, readNatRules, startCapture, type LiveCapture, type StopReason } from '../capture/index.js';
import type { FlowAnalysis } from '../flow/index.js';
import { createHostFacts, type HostFacts, type HostFactsSession } from '../host/index.js';
import { connectRemote, REMOTE_CAPTURE, type RemoteServer, type SshOptions } from '../remote/index.js';
import { connectAgent, parseAgentTarget, type AgentClient } from './client.js';
import { AGENT_LIMITS, filterForPorts } from './protocol.js';
import { analyzeServerSide } from './result.js';
import { newRedactor, redactDeep } from './redact.js';
import { redactionPolicy } from '../redaction.js';

export type ServerMode = 'auto' | 'agent' | 'agentless';
export const SERVER_MODES: readonly ServerMode[] = ['auto', 'agent', 'agentless'];

export interface ServerSideStart {
  /** Ports to capture (the filter follows Docker's DNAT from them). */
  ports: number[];
  /** Trace ids looked for (the agent's `traceIds`; agentless analyses every exchange anyway). */
  traceIds?: string[];
  maxDurationMs?: number;
  maxBytes?: number;
  /** Header names hidden besides the defaults (src/redaction.ts) in what comes back. */
  redact?: readonly string[];
}

export interface ServerSideStarted {
  /** The filter tcpdump got (NAT followed). */
  filter: string;
  /** Lines for the user ("following NAT: …", attribution problems). */
  notes: string[];
}

/** What the server side read, in either mode (the analysis is redacted as the agent's is). */
export interface ServerSideReading {
  analysis: FlowAnalysis;
  host: HostFacts | null;
  /** Ports captured: those asked and their NAT translations. */
  ports: number[];
  capturedPackets: number;
  kernelDrops: number | null;
  stoppedBy: StopReason;
  warnings: string[];
}

export interface ServerSideSession {
  /** The target as given (`ssh://…`, `netns:ec2`, `local`). */
  readonly target: string;
  readonly mode: 'agent' | 'agentless';
  /** How it runs, for people: `flowtrace agent (flowtrace 0.1.0)`, `agentless: tcpdump over ssh as ec2-user`. */
  readonly description: string;
  start(o: ServerSideStart): Promise<ServerSideStarted>;
  stop(): Promise<ServerSideReading>;
  /** Always called, also after a failure: ends the agent or the capture, closes the connection. */
  close(): Promise<void>;
}

export interface ServerSideOptions {
  mode?: ServerMode;
  ssh?: SshOptions;
  /** Seam for tests: the agent's environment (a fake ssh on PATH). */
  env?: NodeJS.ProcessEnv;
}

/** Connects to the server side of `target` in the mode asked (auto: see the file's comment). */
export async function connectServerSide(target: string, options: ServerSideOptions = {}): Promise<ServerSideSession> {
  const mode = options.mode ?? 'auto';
  const parsed = parseAgentTarget(target);
  if (parsed.kind !== 'ssh') {
    if (mode === 'agentless') throw new UsageError(`--server-mode agentless needs an ssh:// target, not '${target}'`, `here the agent runs (${target}): drop --server-mode, or use --server ssh://user@host`);
    return agentSession(target, await connectAgent(parsed, { env: options.env }), null);
  }
  if (mode === 'agent') return agentSession(target, await connectAgent(parsed, { env: options.env }), null);
  const remote = await connectRemote({ user: parsed.user, host: parsed.host, port: parsed.port }, options.ssh);
  try {
    if (mode === 'auto' && remote.host.agentAllowed) {
      const agent = await connectAgent(parsed, { sshArgv: remote.connection.sessionArgv(), env: options.env });
      return agentSession(target, agent, remote);
    }
    remote.requireCapture();
    return agentlessSession(target, remote);
  } catch (err) {
    await remote.close();
    throw err;
  }
}

function agentSession(target: string, client: AgentClient, remote: RemoteServer | null): ServerSideSession {
  return {
    target,
    mode: 'agent',
    description: `flowtrace agent (${client.hello.agent})`,
    async start(o) {
      const started = await client.start({
        ports: o.ports, traceId: o.traceIds?.[0] ?? null, traceIds: o.traceIds, pcapng: true, redact: o.redact,
        ...(o.maxDurationMs !== undefined ? { maxDurationMs: o.maxDurationMs } : {}), ...(o.maxBytes !== undefined ? { maxBytes: o.maxBytes } : {}),
      });
      return { filter: started.filter, notes: started.notes };
    },
    async stop() {
      const r = await client.stop();
      if (!r.analysis) {
        throw new UsageError(`the agent on ${target} (${client.hello.agent}) returned no flow analysis`, 'update flowtrace there (it needs the \'flow-analysis\' capability), or use --server-mode agentless');
      }
      return {
        analysis: r.analysis, host: r.host ?? null, ports: r.ports ?? [], capturedPackets: r.packets.captured,
        kernelDrops: r.packets.droppedByKernel, stoppedBy: r.stoppedBy as StopReason, warnings: r.warnings,
      };
    },
    async close() {
      try { await client.close(); } finally { await remote?.close(); }
    },
  };
}

/** The agentless path: the agent's steps (facts at start, capture, analysis, facts at stop), their commands run over ssh. */
function agentlessSession(target: string, remote: RemoteServer): ServerSideSession {
  let capture: LiveCapture | null = null;
  let facts: HostFactsSession | null = null;
  let asked: number[] = [];
  let redact: readonly string[] = [];
  return {
    target,
    mode: 'agentless',
    description: `agentless: tcpdump and host facts over ssh as ${remote.host.user || 'the ssh user'}`,
    async start(o) {
      if (capture !== null) throw new UsageError('a capture is already running on this server side', 'stop it first');
      asked = [...new Set(o.ports)];
      redact = o.redact ?? [];
      // The counters are read before start() resolves, so before the request is sent: what
      // rises is what the request did. They are read while the capture starts (each step is a
      // few round trips over ssh; one after the other they were most of start()).
      facts = createHostFacts({ runner: remote.runner, namespaceSource: remote.namespaceSource });
      const factsRead = facts.start();
      factsRead.catch(() => {}); // never rejects (host/), but a capture that fails first must not leave it unhandled
      // Links and the nat table in one round trip (the runner batches what is asked together).
      const [known, nat] = await Promise.all([readLinks(null, remote.runner), readNatRules(null, undefined, remote.runner)]);
      capture = await startCapture({
        interfaces: ['any'],
        filter: filterForPorts(asked),
        followNat: true,
        maxDurationMs: Math.min(o.maxDurationMs ?? AGENT_LIMITS.defaultDurationMs, REMOTE_CAPTURE.maxDurationMs),
        maxCapturedBytes: Math.min(o.maxBytes ?? AGENT_LIMITS.defaultCaptureBytes, AGENT_LIMITS.maxCaptureBytes),
        keepPackets: true,
        links: known,
        // A nat table that could not be read is read again there, which says why in the notes.
        ...(nat.problem === null ? { natRulesText: nat.text } : {}),
        engine: remote.captureEngine(() => known.map((l) => l.name)),
        runner: remote.runner,
        namespaceSource: remote.namespaceSource,
      });
      await factsRead;
      return { filter: capture.effectiveFilter, notes: capture.notes };
    },
    async stop() {
      if (capture === null) throw new UsageError('no capture was started', 'call start() first');
      const c = capture;
      const live = await c.stop();
      const { analyzed, host } = await analyzeServerSide(c, live, facts, { lines: false });
      if (host) host.problems.push(...remote.problems());
      return {
        // Redacted as the agent's is: the same reading, whichever side analysed the packets.
        analysis: redactDeep(analyzed.analysis, newRedactor(redactionPolicy(redact))), host,
        ports: [...new Set([...asked, ...c.natTranslations.map((t) => t.toPort)])],
        capturedPackets: live.packetCount, kernelDrops: live.kernel?.droppedByKernel ?? null,
        stoppedBy: live.stoppedBy, warnings: live.warnings,
      };
    },
    async close() {
      try {
        if (capture !== null && capture.state.kind !== 'stopped') await capture.stop().catch(() => {});
      } finally {
        await remote.close();
      }
    },
  };
}
