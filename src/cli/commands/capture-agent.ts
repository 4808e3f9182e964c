/**
 * `flowtrace capture --server ssh://… --server-mode agent`: the capture made by `flowtrace
 * agent` on the server (over the same ssh connection). The agent takes ports, not a filter,
 * and returns its packets' lines (at most 500) and the analysis at the stop — nothing is
 * printed while it runs. The agentless mode (capture.ts) has none of those limits.
 */
import fs from 'node:fs';
import type { CliIO } from '../io.js';
import { EXIT, InputError } from '../../errors.js';
import { connectAgent, AGENT_LIMITS, type ResultMessage } from '../../agent/index.js';
import { renderAnalysis } from '../../flow/index.js';
import type { RemoteServer } from '../../remote/index.js';

/** true when the agent can make this capture, else why not. */
export function agentFits(filter: string, maxPackets: number | null): true | string {
  if (maxPackets !== null) return 'the agent has no packet count (-c)';
  if (filter.trim() !== '' && !/^port \d{1,5}( or port \d{1,5})*$/.test(filter.trim())) return `the agent takes ports only ('port 80 or port 443'), not '${filter}'`;
  return true;
}

export interface AgentCaptureInput {
  io: CliIO;
  remote: RemoteServer;
  interfaces: string[];
  filter: string;
  maxDurationMs: number | null;
  outFile: string | null;
  json: boolean;
  quiet: boolean;
}

export async function agentCapture(o: AgentCaptureInput): Promise<number> {
  const { io, remote } = o;
  const ports = [...o.filter.matchAll(/port (\d+)/g)].map((m) => Number(m[1]));
  const agent = await connectAgent({ kind: 'ssh', ...remote.connection.target }, { sshArgv: remote.connection.sessionArgv(), env: io.env });
  let result: ResultMessage;
  try {
    const started = await agent.start({
      interfaces: o.interfaces, ports, pcapng: o.outFile !== null,
      maxDurationMs: Math.min(o.maxDurationMs ?? AGENT_LIMITS.maxDurationMs, AGENT_LIMITS.maxDurationMs),
    });
    if (!o.json) {
      io.stderr(`flowtrace: capturing on ${o.interfaces.join(', ')} on ${remote.label} (${agent.hello.agent} agent), filter '${started.filter}'\n`);
      for (const note of started.notes) io.stderr(`flowtrace: ${note}\n`);
      io.stderr(`flowtrace: the agent returns its packets at the stop; stopping after ${started.maxDurationMs} ms, Ctrl-C to stop\n`);
    }
    let stopAsked = false;
    const off = io.onInterrupt(() => { stopAsked = true; });
    try {
      const bySelf = agent.nextResult();
      const interrupted = new Promise<'stop'>((resolve) => {
        const tick = setInterval(() => { if (stopAsked) { clearInterval(tick); resolve('stop'); } }, 50);
        void bySelf.finally(() => clearInterval(tick)).catch(() => {});
      });
      const first = await Promise.race([bySelf, interrupted]);
      result = first === 'stop' ? await agent.stop() : first;
    } finally {
      off();
    }
  } finally {
    await agent.close();
  }
  if (o.outFile !== null && result.pcapng) {
    try { fs.writeFileSync(o.outFile, Buffer.from(result.pcapng, 'base64')); } catch (err) {
      throw new InputError(`cannot write ${o.outFile}: ${(err as Error).message}`, 'give -w a file in a writable directory');
    }
  }
  if (o.json) {
    io.stdout(JSON.stringify({ schema: 'flowtrace.capture/1', interfaces: o.interfaces, netns: null, server: { target: remote.label, mode: 'agent' }, stoppedBy: result.stoppedBy, durationMs: result.durationMs, packetCount: result.packets.captured, packets: result.list, analysis: result.analysis, file: o.outFile, warnings: result.warnings }, null, 2) + '\n');
    return EXIT.ok;
  }
  if (!o.quiet) for (const p of result.list) io.stdout(`${p.line}\n`);
  if (result.analysis) io.stdout('\n' + renderAnalysis(result.analysis).trimEnd() + '\n');
  io.stderr(`${result.packets.captured} packets captured, ${result.packets.receivedByFilter ?? '?'} received by filter, ${result.packets.droppedByKernel ?? '?'} dropped by kernel (stopped by ${result.stoppedBy})\n`);
  for (const w of result.warnings) io.stderr(`flowtrace: warning: ${w}\n`);
  if (o.outFile !== null) io.stderr(`flowtrace: wrote the agent's pcapng (secret headers masked) to ${o.outFile}\n`);
  return EXIT.ok;
}
