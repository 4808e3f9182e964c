/**
 * `flowtrace agent`: the server side of the JSON-lines protocol on stdin/stdout
 * (docs/agent.md). Started by `connectAgent` locally, in a namespace, or over ssh.
 */
import type { Readable } from 'node:stream';
import type { CliIO } from '../io.js';
import { parseCommandArgs } from '../args.js';
import { EXIT } from '../../errors.js';
import { runAgent, AGENT_KEEPALIVE_MS } from '../../agent/index.js';

const HELP = `usage: flowtrace agent

Speaks flowtrace's agent protocol (JSON lines, version 1) on stdin/stdout: it says hello,
then captures on request and answers with the in-host path of the asked request.
It is meant to be started by another flowtrace (follow --agent, connectAgent):
  local · netns:NODE (ip netns exec) · ssh://user@host (ssh … sudo flowtrace agent)
Protocol and examples: docs/agent.md
`;

export async function run(args: string[], io: CliIO): Promise<number> {
  const parsed = parseCommandArgs('agent', { args, options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true }, 'flowtrace agent takes no arguments (it reads JSON lines on stdin)');
  if (parsed.values.help) { io.stdout(HELP); return EXIT.ok; }
  let interrupt!: () => void;
  const interrupted = new Promise<void>((resolve) => { interrupt = resolve; });
  const off = io.onInterrupt(() => interrupt());
  const onHangup = (): void => interrupt();
  process.on('SIGHUP', onHangup);
  // The controller went away (its read end closed: ssh dropped, the parent died): stop like
  // on end of input, so tcpdump is ended by its PID, and write nothing more into the pipe.
  let outputClosed = false;
  const offOutputClosed = io.onOutputClosed?.(() => { outputClosed = true; interrupt(); }) ?? (() => {});
  try {
    return await runAgent({
      input: io.stdin as Readable,
      output: (text) => { if (!outputClosed) io.stdout(text); },
      interrupted,
      keepaliveMs: AGENT_KEEPALIVE_MS,
    });
  } finally {
    off();
    process.off('SIGHUP', onHangup);
    offOutputClosed();
  }
}
