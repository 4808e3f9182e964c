/**
 * A server reached over ssh, ready for the agentless path: the connection, what the server
 * has (./preflight.ts), and the seams capture/live and host/ take — a ProcessRunner, a
 * CaptureEngine and a NamespaceSource that all run their commands there.
 */
import { commandNamespaceSource, type CaptureEngine, type NamespaceSource } from '../capture/index.js';
import { openSsh, type SshConnection, type SshOptions } from './ssh.js';
import { parseSshTarget, type SshTarget } from './target.js';
import { preflight, type RemoteHost } from './preflight.js';
import { remoteRunner, type RemoteRunner } from './runner.js';
import { captureNotAllowed, missingOnServer, sshCaptureEngine } from './engine.js';
import { sudoersLine } from './commands.js';

export interface RemoteServer {
  /** `ssh://user@host[:port]`. */
  readonly label: string;
  readonly connection: SshConnection;
  readonly host: RemoteHost;
  readonly runner: RemoteRunner;
  readonly namespaceSource: NamespaceSource;
  /** The capture engine on the server; `knownInterfaces` names them in an unknown-interface error. */
  captureEngine(knownInterfaces?: () => string[]): CaptureEngine;
  /**
   * Throws the one error that says what the capture lacks there — tcpdump, timeout or ip not
   * installed, no sudo, sudo refusing it — with the fix (the install command, the sudoers line).
   */
  requireCapture(): void;
  /** One line per kind of gap found while reading facts (sudo refusals with the lines to add). */
  problems(): string[];
  close(): Promise<void>;
}

/** Connects (one master connection), reads what the server has, and gives the seams over it. */
export async function connectRemote(target: SshTarget | string, options: SshOptions = {}): Promise<RemoteServer> {
  const t = typeof target === 'string' ? parseSshTarget(target) : target;
  const connection = await openSsh(t, options);
  let host: RemoteHost;
  try {
    host = await preflight(connection);
  } catch (err) {
    await connection.close();
    throw err;
  }
  const runner = remoteRunner(connection, host);
  const label = connection.label;
  return {
    label,
    connection,
    host,
    runner,
    namespaceSource: commandNamespaceSource(runner),
    captureEngine: (knownInterfaces) => sshCaptureEngine(connection, host, { knownInterfaces }),
    requireCapture() {
      for (const program of ['tcpdump', 'timeout', 'ip'] as const) if (host.paths[program] === undefined) throw missingOnServer(host, program, label);
      if (host.uid !== 0 && host.sudo === null) throw missingOnServer(host, 'sudo', label);
      if (!host.captureAllowed) throw captureNotAllowed(host, label, null);
    },
    problems() {
      const refused = runner.refused();
      if (refused.length === 0) return [];
      const lines = refused.map((c) => sudoersLine(host.user || 'USER', c, host.paths));
      const what = refused.map((c) => `${c.program} (${c.purpose})`).join('; ');
      return [`sudo on ${label} refused ${refused.length} command${refused.length > 1 ? 's' : ''}: ${what} — those facts are not checked; add to sudoers: ${lines.join(' ; ')} (docs/agent.md)`];
    },
    close: () => connection.close(),
  };
}
