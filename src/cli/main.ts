/**
 * The CLI entry: dispatches `flowtrace COMMAND …` to src/cli/commands/COMMAND.ts.
 * The CLI is the only place that prints or exits; commands return an exit code.
 */
import { isFlowtraceError, EXIT } from '../errors.js';
import type { CliIO } from './io.js';
import { processIO } from './io.js';

/** Commands and their one-line summary; each lives in ./commands/<name>.js and exports `run`. */
export const COMMANDS: Record<string, string> = {
  read: 'print the packets of a pcap/pcapng file (or - for stdin) like tcpdump -nn -r',
  analyze: 'TCP connections, HTTP exchanges and the in-host path through NAT, from a capture',
  capture: 'live capture (tcpdump engine) with the in-host analysis on stop',
  agent: 'the server-side agent: JSON lines on stdin/stdout',
  dns: 'resolve a name and explain the answers',
  trace: 'trace the route to a host (udp, icmp or tcp probes)',
  http: 'one timed HTTP(S) request with a trace id',
  follow: 'the whole walk for one URL: dns, route, request, server side, verdict',
  watch: 'follow on a schedule: one line per run, failures summarised, OTLP traces, Prometheus metrics',
  explain: 'the verdict from text you already ran: nslookup, traceroute, curl -v, tcpdump, ip, iptables…',
  demo: 'build the lab, follow a request through it, report, tear down',
  lab: 'the local replica of the architecture (up, down, status, exec, fault, heal, faults)',
  report: 'write the HTML report of a follow result',
  'aws-snapshot': 'save the AWS configuration (the describe outputs follow --aws-config reads) in a folder',
};

export interface CommandModule {
  run(args: string[], io: CliIO): Promise<number>;
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
  return `usage: flowtrace COMMAND [options]\n\ncommands:\n${lines.join('\n')}\n\nflowtrace COMMAND --help shows a command's options. Exit codes: docs/cli.md\n`;
}

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    io.stdout(usage());
    return command === undefined ? EXIT.usage : EXIT.ok;
  }
  if (command === '--version' || command === 'version') {
    io.stdout('flowtrace 0.1.0\n');
    return EXIT.ok;
  }
  if (!Object.hasOwn(COMMANDS, command)) {
    io.stderr(`error[USAGE]: unknown command '${command}'\nhint: run \`flowtrace help\` for the list\n`);
    return EXIT.usage;
  }
  try {
    const mod = (await import(`./commands/${command}.js`)) as CommandModule;
    return await mod.run(rest, io);
  } catch (err) {
    return reportError(err, io);
  }
}

/** Prints `error[CODE]: message` and `hint: …`; returns the documented exit code. */
export function reportError(err: unknown, io: CliIO): number {
  if (isFlowtraceError(err)) {
    io.stderr(`error[${err.code}]: ${err.message}\nhint: ${err.hint}\n`);
    return err.exitCode;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && e.code === 'ERR_MODULE_NOT_FOUND') {
    io.stderr(`error[NOT_BUILT]: this command is not available in this build\nhint: run npm run build\n`);
    return EXIT.internal;
  }
  if (e && e.code === 'EPIPE') return EXIT.ok; // reader went away (e.g. `| head`)
  io.stderr(`error[INTERNAL]: ${e && e.message ? e.message : String(err)}\nhint: this is a bug in flowtrace; please report it with the command you ran\n`);
  return EXIT.internal;
}
