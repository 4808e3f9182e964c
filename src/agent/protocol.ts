/**
 * The agent's JSON-lines protocol, version 1 (docs/agent.md is the user-facing description).
 *
 * One JSON object per line, UTF-8, `\n` terminated, both ways. The agent speaks first
 * (`hello`); the client sends `start`, later `stop` (or lets a bound end the capture); the
 * agent answers `started`, then `result`. Any bad line gets an `error` and the agent goes on.
 *
 * Everything a client sends is validated here, before it reaches anything else: no field
 * is ever passed to a shell, ports and sizes are integers in range, interface names match
 * the kernel's rules (and must exist, checked by the server).
 */

import type { FlowAnalysis } from '../flow/index.js';
import type { HostFacts } from '../host/index.js';
import { MAX_ADDED_NAMES, redactNameProblem } from '../redaction.js';

export const AGENT_PROTOCOL_VERSION = 1;

/** Bounds: defaults a client gets when it says nothing, caps it cannot exceed. */
export const AGENT_LIMITS = {
  maxLineBytes: 64 * 1024,
  defaultDurationMs: 30_000,
  maxDurationMs: 300_000,
  defaultCaptureBytes: 16 * 1024 * 1024,
  maxCaptureBytes: 64 * 1024 * 1024,
  maxInterfaces: 16,
  maxPorts: 16,
  maxTraceIdLength: 256,
  /** Trace ids one capture looks for (`traceIds`). */
  maxTraceIds: 16,
  maxIdLength: 64,
  /** Packets listed in a result (the count is always complete). */
  maxPacketsListed: 500,
} as const;

/** Linux interface names: 1–15 bytes (IFNAMSIZ 16 with the NUL), no slash or space. */
export const INTERFACE_NAME = /^[A-Za-z0-9._@-]{1,15}$/;
/** An X-Amzn-Trace-Id value or its Root (`Root=1-5f84c3a3-…;Self=…`, `1-5f84c3a3-…`). */
const TRACE_ID = /^[A-Za-z0-9=;.:_-]{1,256}$/;
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * `multiple-trace-ids`: `start` takes `traceIds` and `result` has `traces` (additive to v1).
 * `redact-names`: `start` takes `redact`, header names hidden besides the defaults (additive to v1).
 * `flow-analysis`: `result.analysis` is flow's typed analysis of the capture (with packet
 * logs); `host-facts`: `result.host` holds the host facts read at start and stop (both
 * additive to v1; a client must not expect them from an agent that does not list them).
 */
export const AGENT_CAPABILITIES = ['capture', 'nat-follow', 'exchange-by-trace-id', 'pcapng', 'container-attribution', 'multiple-trace-ids', 'redact-names', 'flow-analysis', 'host-facts'] as const;

// Agent → client.

export interface HelloInterface {
  name: string;
  index: number;
  kind: string | null;
  master: string | null;
  /** `UP`, `DOWN`, `LOWERLAYERDOWN`, `UNKNOWN` (ip link's operstate): a veth that is down looks like a firewall in a capture. */
  operstate: string;
  /** For a veth: the container/namespace behind it, when known. */
  peer: string | null;
}

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  agent: string;
  capabilities: string[];
  interfaces: HelloInterface[];
  limits: { maxLineBytes: number; defaultDurationMs: number; maxDurationMs: number; defaultCaptureBytes: number; maxCaptureBytes: number };
  /** Whether the agent runs with the privileges to capture. */
  privileged: boolean;
}

export interface StartedMessage {
  type: 'started';
  id: string | null;
  interfaces: string[];
  filter: string;
  notes: string[];
  maxDurationMs: number;
  maxBytes: number;
  /** Every trace id the capture looks for (`traceId` first); [] when none. */
  traceIds: string[];
  /** PID of the capture process (tcpdump) on the agent's machine, for the operator. */
  enginePid: number | null;
  /** The ports captured: those asked and the ports Docker's DNAT translates them to. */
  ports: number[];
}

export interface ErrorMessage {
  type: 'error';
  /** The request's id when the line could be read that far. */
  id: string | null;
  code: string;
  message: string;
  hint: string;
}

export interface PacketSummary {
  index: number;
  /** ISO 8601 with microseconds. */
  time: string;
  interface: string | null;
  direction: string;
  length: number;
  /** One line like `tcpdump -nn` (redacted). */
  line: string;
  /** Hop comment when flowtrace stitched the packet across interfaces (`ens5 In → docker0 Out`). */
  hop: string | null;
}

/** What a capture found for one asked trace id. */
export interface TraceResult {
  traceId: string;
  found: boolean;
  /** As `ResultMessage.exchange` / `path`, for this trace id. */
  exchange: unknown;
  path: string[];
}

export interface ResultMessage {
  type: 'result';
  id: string | null;
  stoppedBy: string;
  durationMs: number;
  packets: { captured: number; listed: number; droppedByKernel: number | null; receivedByFilter: number | null };
  /** The (first) trace id asked for, and whether an exchange carrying it was found. */
  traceId: string | null;
  found: boolean;
  /** The matching exchange and its in-host path, as flow analysis describes it (redacted). */
  exchange: unknown;
  /** Text rendering of the in-host path (redacted). */
  path: string[];
  /** One entry per asked trace id, in the order asked (the first is the one above). */
  traces: TraceResult[];
  /** Every exchange seen, as short lines (redacted). */
  exchanges: string[];
  anomalies: string[];
  natMappings: string[];
  list: PacketSummary[];
  /** pcapng bytes, base64, when asked (header values masked, see docs/agent.md). */
  pcapng: string | null;
  redactions: number;
  warnings: string[];
  /** The ports captured (asked + NAT translations). */
  ports: number[];
  /** Flow's analysis of the capture, redacted, with per-connection packet logs (capability `flow-analysis`). */
  analysis: FlowAnalysis | null;
  /** Host facts read at the start and the stop of the capture (capability `host-facts`); null when not read. */
  host: HostFacts | null;
}

export type AgentMessage = HelloMessage | StartedMessage | ErrorMessage | ResultMessage;

// Client → agent.

export interface StartRequest {
  type: 'start';
  id: string | null;
  interfaces: string[];
  ports: number[];
  /** The first trace id asked for (`traceId`, else the first of `traceIds`). */
  traceId: string | null;
  /** Every trace id asked for: `traceId` then `traceIds`, without repeats. */
  traceIds: string[];
  maxDurationMs: number;
  maxBytes: number;
  pcapng: boolean;
  /** Header names whose values are hidden besides the defaults (lower case; src/redaction.ts). */
  redact: string[];
}

export interface StopRequest { type: 'stop'; id: string | null }
export interface HelloRequest { type: 'hello'; id: string | null }
export interface ByeRequest { type: 'bye'; id: string | null }

export type ClientMessage = StartRequest | StopRequest | HelloRequest | ByeRequest;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ErrorMessage };

function fail(id: string | null, code: string, message: string, hint: string): { ok: false; error: ErrorMessage } {
  return { ok: false, error: { type: 'error', id, code, message, hint } };
}

const START_FIELDS = new Set(['type', 'id', 'interfaces', 'ports', 'traceId', 'traceIds', 'maxDurationMs', 'maxBytes', 'pcapng', 'redact']);

function boundedInt(v: unknown, min: number, max: number): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : null;
}

/** Reads and validates one line from the client. Never throws. */
export function parseClientLine(line: string): Parsed<ClientMessage> {
  if (Buffer.byteLength(line, 'utf8') > AGENT_LIMITS.maxLineBytes) {
    return fail(null, 'OVERSIZED', `line longer than ${AGENT_LIMITS.maxLineBytes} bytes`, 'send one small JSON object per line');
  }
  let raw: unknown;
  try { raw = JSON.parse(line); } catch (err) {
    return fail(null, 'MALFORMED', `not JSON: ${(err as Error).message}`, 'send one JSON object per line, e.g. {"type":"stop"}');
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return fail(null, 'MALFORMED', 'a message must be a JSON object', 'e.g. {"type":"start","ports":[80]}');
  }
  const m = raw as Record<string, unknown>;
  let id: string | null = null;
  if (m.id !== undefined && m.id !== null) {
    if (typeof m.id !== 'string' || !REQUEST_ID.test(m.id)) {
      return fail(null, 'BAD_FIELD', 'id must be a string of 1–64 letters, digits, . _ : -', 'or leave id out');
    }
    id = m.id;
  }
  switch (m.type) {
    case 'stop': return { ok: true, value: { type: 'stop', id } };
    case 'hello': return { ok: true, value: { type: 'hello', id } };
    case 'bye': return { ok: true, value: { type: 'bye', id } };
    case 'start': break;
    default:
      return fail(id, 'UNKNOWN_TYPE', `unknown message type ${JSON.stringify(m.type)?.slice(0, 40) ?? 'undefined'}`, 'types: hello, start, stop, bye');
  }
  for (const key of Object.keys(m)) {
    if (!START_FIELDS.has(key)) return fail(id, 'BAD_FIELD', `unknown field ${JSON.stringify(key.slice(0, 40))} in start`, `fields: ${[...START_FIELDS].join(', ')}`);
  }
  // interfaces
  let interfaces: string[] = ['any'];
  if (m.interfaces !== undefined) {
    if (!Array.isArray(m.interfaces) || m.interfaces.length === 0 || m.interfaces.length > AGENT_LIMITS.maxInterfaces) {
      return fail(id, 'BAD_FIELD', `interfaces must be a list of 1–${AGENT_LIMITS.maxInterfaces} names`, 'e.g. ["any"] or ["ens5","docker0"]');
    }
    for (const n of m.interfaces) {
      if (typeof n !== 'string' || !INTERFACE_NAME.test(n)) {
        return fail(id, 'BAD_INTERFACE', `bad interface name ${JSON.stringify(n)?.slice(0, 40)}`, 'names are 1–15 characters: letters, digits, . _ @ -');
      }
    }
    interfaces = m.interfaces as string[];
  }
  // ports
  let ports: number[] = [];
  if (m.ports !== undefined) {
    if (!Array.isArray(m.ports) || m.ports.length > AGENT_LIMITS.maxPorts) {
      return fail(id, 'BAD_FIELD', `ports must be a list of at most ${AGENT_LIMITS.maxPorts} port numbers`, 'e.g. [80]');
    }
    for (const p of m.ports) {
      if (boundedInt(p, 1, 65535) === null) {
        return fail(id, 'BAD_PORT', `port ${JSON.stringify(p)?.slice(0, 40)} is not an integer in 1–65535`, 'e.g. "ports":[80]');
      }
    }
    ports = [...new Set(m.ports as number[])];
  }
  // trace id
  let traceId: string | null = null;
  if (m.traceId !== undefined && m.traceId !== null) {
    if (typeof m.traceId !== 'string' || !TRACE_ID.test(m.traceId)) {
      return fail(id, 'BAD_FIELD', `traceId must be an X-Amzn-Trace-Id value of at most ${AGENT_LIMITS.maxTraceIdLength} characters`, 'e.g. "Root=1-67891233-abcdef012345678912345678" or "1-67891233-abcdef012345678912345678"');
    }
    traceId = m.traceId;
  }
  // several trace ids (additive to v1: an agent without `multiple-trace-ids` rejects the field)
  const traceIds: string[] = traceId === null ? [] : [traceId];
  if (m.traceIds !== undefined && m.traceIds !== null) {
    if (!Array.isArray(m.traceIds) || m.traceIds.length > AGENT_LIMITS.maxTraceIds) {
      return fail(id, 'BAD_FIELD', `traceIds must be a list of at most ${AGENT_LIMITS.maxTraceIds} trace ids`, 'e.g. "traceIds":["Root=1-67891233-abcdef012345678912345678","1-67891234-…"]');
    }
    for (const t of m.traceIds) {
      if (typeof t !== 'string' || !TRACE_ID.test(t)) {
        return fail(id, 'BAD_FIELD', `traceIds: ${JSON.stringify(t)?.slice(0, 40) ?? 'undefined'} is not an X-Amzn-Trace-Id value of at most ${AGENT_LIMITS.maxTraceIdLength} characters`, 'e.g. "Root=1-67891233-abcdef012345678912345678"');
      }
      if (!traceIds.includes(t)) traceIds.push(t);
    }
    if (traceIds.length > AGENT_LIMITS.maxTraceIds) {
      return fail(id, 'BAD_FIELD', `at most ${AGENT_LIMITS.maxTraceIds} trace ids per capture (traceId and traceIds together)`, 'start another capture for the others');
    }
  }
  // bounds
  let maxDurationMs: number = AGENT_LIMITS.defaultDurationMs;
  if (m.maxDurationMs !== undefined) {
    const v = boundedInt(m.maxDurationMs, 1, AGENT_LIMITS.maxDurationMs);
    if (v === null) return fail(id, 'BAD_FIELD', `maxDurationMs must be an integer in 1–${AGENT_LIMITS.maxDurationMs}`, 'the agent caps every capture');
    maxDurationMs = v;
  }
  let maxBytes: number = AGENT_LIMITS.defaultCaptureBytes;
  if (m.maxBytes !== undefined) {
    const v = boundedInt(m.maxBytes, 1, AGENT_LIMITS.maxCaptureBytes);
    if (v === null) return fail(id, 'BAD_FIELD', `maxBytes must be an integer in 1–${AGENT_LIMITS.maxCaptureBytes}`, 'the agent caps every capture');
    maxBytes = v;
  }
  if (m.pcapng !== undefined && typeof m.pcapng !== 'boolean') return fail(id, 'BAD_FIELD', 'pcapng must be true or false', 'e.g. "pcapng":true');
  const redact = parseRedact(m.redact);
  if (typeof redact === 'string') return fail(id, 'BAD_FIELD', redact, 'e.g. "redact":["X-Session-Token"] (header names; the defaults are always hidden)');
  return { ok: true, value: { type: 'start', id, interfaces, ports, traceId: traceIds[0] ?? null, traceIds, maxDurationMs, maxBytes, pcapng: m.pcapng === true, redact } };
}

/** `redact`: header names added to the redaction policy (lower case, no repeats), or what is wrong. */
function parseRedact(v: unknown): string[] | string {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_ADDED_NAMES) return `redact must be a list of at most ${MAX_ADDED_NAMES} header names`;
  const names: string[] = [];
  for (const n of v) {
    const problem = typeof n === 'string' ? redactNameProblem(n) : 'not a string';
    if (problem !== null) return `redact: ${JSON.stringify(n)?.slice(0, 40) ?? 'undefined'}: ${problem}`;
    const lower = (n as string).toLowerCase();
    if (!names.includes(lower)) names.push(lower);
  }
  return names;
}

/** The pcap-filter for validated ports: only integers reach it. */
export function filterForPorts(ports: readonly number[]): string {
  return ports.map((p) => `port ${p}`).join(' or ');
}
