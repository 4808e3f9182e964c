/**
 * The capture engine on a server over ssh: capture/live's `CaptureEngine`, with tcpdump
 * started on the server (`sudo -n timeout … tcpdump -i any -w - -U … -- FILTER`) and its
 * pcap stream read here by the same parser, SLL2 interface indexes named with the server's
 * `ip -j -d link` (capture/live/session.ts does that as for a local capture).
 *
 * tcpdump does not read its input, so a connection that goes away would not end it until
 * its time cap. The remote command is therefore a watchdog of fixed shell text around it:
 *
 *   exec 3<&0; CAPTURE </dev/null & p=$!;
 *   (while [ "$(timeout 20 head -c 1 <&3 | wc -c)" -eq 1 ]; do :; done; kill -INT $p) & w=$!;
 *   exec 3<&-; wait $p; r=$?; kill $w; exit $r
 *
 * flowtrace writes one byte to the session every 5 s. The end of the session's input —
 * flowtrace's stop (it closes ssh's stdin), flowtrace killed (the pipe closes with it), ssh
 * killed, sshd closing the session — or 20 s without a byte — the connection lost without a
 * word, which sshd may not notice for hours — sends SIGINT to sudo, which passes it on to
 * timeout and tcpdump: tcpdump flushes its last packets and its counters, and exits.
 * tcpdump ending first (a bad filter, its cap) ends the watchdog. A user may signal the
 * sudo it started (sudo keeps the user's real uid) and sudo relays SIGINT to the command;
 * `timeout` (root) bounds the capture if all else fails. The watchdog's own pieces write
 * nowhere (an orphan holding the session's stderr would hold the session open).
 */
import { EXIT, RemoteError, type FlowtraceError } from '../errors.js';
import { classifyTcpdumpFailure, parseTcpdumpStats, TCPDUMP_DEFAULTS, type CaptureEngine, type EngineExit, type EngineProcess, type EngineSpec } from '../capture/index.js';
import { captureArgv, findRemoteCommand, remoteCommands, sudoersLine, REMOTE_CAPTURE } from './commands.js';
import { installHint, type RemoteHost } from './preflight.js';
import type { SshConnection } from './ssh.js';
import { shellLine, shellWord } from './words.js';

/** The remote command line: the capture inside its watchdog (fixed text around quoted words). */
export function watchdogLine(capture: string, timeoutPath: string): string {
  const wait = `${shellWord(timeoutPath)} ${REMOTE_CAPTURE.silenceSec} head -c 1 <&3 2>/dev/null | wc -c`;
  return `exec 3<&0; ${capture} </dev/null & p=$!; (while [ "$(${wait})" -eq 1 ]; do :; done; kill -INT $p) >/dev/null 2>&1 & w=$!; exec 3<&-; wait $p; r=$?; kill $w 2>/dev/null; exit $r`;
}

/** The capture's argv on the server (sudo first unless root); throws when a program is missing. */
export function remoteCaptureArgv(host: RemoteHost, filter: string, label: string): string[] {
  for (const program of ['tcpdump', 'timeout'] as const) {
    if (host.paths[program] === undefined) throw missingOnServer(host, program, label);
  }
  const argv = captureArgv({ timeout: host.paths.timeout!, tcpdump: host.paths.tcpdump! }, filter);
  // Built here, checked against the list all the same (the list is what sudoers allows).
  if (findRemoteCommand(remoteCommands(host.paths), 'timeout', argv.slice(1))?.id !== 'capture') {
    throw new RemoteError('REMOTE_WORD', `refusing to send a capture that is not the documented one: ${argv.join(' ')}`, 'this is a bug in flowtrace; please report it');
  }
  if (host.uid === 0) return argv;
  if (host.sudo === null) throw missingOnServer(host, 'sudo', label);
  return [host.sudo, '-n', ...argv];
}

/** `tcpdump is not installed on ssh://…` with the install command of that distribution. */
export function missingOnServer(host: RemoteHost, program: 'tcpdump' | 'timeout' | 'ip' | 'sudo', label: string): RemoteError {
  const why = program === 'sudo' ? ` (needed to run tcpdump as ${host.user || 'this user'}; or connect as root)` : '';
  return new RemoteError('REMOTE_MISSING', `${program} is not installed on ${label}${why}`, `install it there: ${installHint(host, program)}`, EXIT.dependency, { program, target: label });
}

/** sudo on the server does not allow the capture: the exact line to add. */
export function captureNotAllowed(host: RemoteHost, label: string, sudoSays: string | null): RemoteError {
  const capture = remoteCommands(host.paths).find((c) => c.id === 'capture')!;
  const line = sudoersLine(host.user || 'USER', capture, host.paths);
  return new RemoteError('REMOTE_SUDO', `sudo on ${label} does not let ${host.user || 'this user'} run tcpdump${sudoSays ? ` (${sudoSays})` : ''}`,
    `add this line there (visudo -f /etc/sudoers.d/flowtrace): ${line} — all lines: docs/agent.md`, EXIT.privilege, { target: label, sudoers: line });
}

export function sshCaptureEngine(conn: SshConnection, host: RemoteHost, options: { knownInterfaces?: () => string[] } = {}): CaptureEngine {
  return {
    start(spec: EngineSpec): EngineProcess {
      if (spec.netns !== null || spec.interface !== 'any') {
        throw new RemoteError('REMOTE_CAPTURE', `the capture over ssh runs on every interface of the server's namespace (asked: ${spec.interface}${spec.netns ? ` in ${spec.netns}` : ''})`, 'this is a bug in flowtrace; please report it');
      }
      const argv = remoteCaptureArgv(host, spec.filter, conn.label);
      const child = conn.spawn(watchdogLine(shellLine(argv), host.paths.timeout!));
      // The heartbeat the watchdog waits for (./commands.ts REMOTE_CAPTURE.silenceSec).
      const heartbeat = setInterval(() => { if (child.stdin.writable) child.stdin.write('.'); }, REMOTE_CAPTURE.heartbeatSec * 1000);
      heartbeat.unref();
      let stderr = '';
      let listening = false;
      let settleReady!: { resolve: () => void; reject: (e: FlowtraceError) => void };
      const ready = new Promise<void>((resolve, reject) => { settleReady = { resolve, reject }; });
      ready.catch(() => {});
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (text: string) => {
        stderr += text;
        if (stderr.length > 64 * 1024) stderr = stderr.slice(-64 * 1024);
        if (!listening && /listening on /.test(stderr)) { listening = true; settleReady.resolve(); }
      });
      child.stdin.on('error', () => { /* the session ended: reported by 'close' */ });
      let spawnError: Error | null = null;
      let killTimer: NodeJS.Timeout | undefined;
      const exited = new Promise<EngineExit>((resolve) => {
        child.on('error', (err) => { spawnError = err; });
        child.on('close', (code, signal) => {
          clearTimeout(killTimer);
          clearInterval(heartbeat);
          if (!listening) settleReady.reject(failure(code));
          const stats = parseTcpdumpStats(stderr);
          // ssh's own exit (255) with no word from tcpdump: the connection went away.
          const said = code === 255 && stats === null && !/^tcpdump: (?!listening on|data link type)/m.test(stderr) ? `the ssh connection to ${conn.label} was lost (tcpdump there is ended by its watchdog)\n${stderr}` : stderr;
          resolve({ code, signal, stderr: said, stats });
        });
      });
      const failure = (code: number | null): FlowtraceError => {
        if (spawnError) return new RemoteError('SSH_FAILED', `${conn.label}: could not start ssh: ${spawnError.message}`, 'check that ssh is installed (apt-get install openssh-client)');
        const sudo = /^sudo: (.*)$/m.exec(stderr);
        if (sudo) return captureNotAllowed(host, conn.label, `sudo: ${sudo[1]!.trim()}`);
        if (code === 255 && !/tcpdump: /.test(stderr)) {
          const last = stderr.trim().split('\n').slice(-1)[0] ?? `ssh exited with ${code}`;
          return new RemoteError('SSH_LOST', `${conn.label}: the ssh session of the capture failed (${last})`, 'check the connection: ssh -v to the same target', EXIT.agent, { stderr: stderr.slice(-2000) });
        }
        const e = classifyTcpdumpFailure(stderr, spec, options.knownInterfaces?.() ?? []);
        // The local hints (setcap, apt-get here) do not fit a server: say where it happened.
        return e.code === 'CAPTURE_FAILED' || e.code === 'PRIVILEGE'
          ? new RemoteError(e.code === 'PRIVILEGE' ? 'REMOTE_PRIVILEGE' : 'REMOTE_CAPTURE', `tcpdump on ${conn.label}: ${e.message}`, `run it there by hand to see more: ${argv.join(' ')}`, e.exitCode, e.facts)
          : e;
      };
      let stopping = false;
      return {
        pid: child.pid ?? null,
        argv,
        output: child.stdout,
        ready,
        exited,
        stop() {
          if (stopping || child.exitCode !== null || child.signalCode !== null) return;
          stopping = true;
          clearInterval(heartbeat);
          // The end of input is the stop (the watchdog): tcpdump flushes, and the stream ends.
          child.stdin.end();
          killTimer = setTimeout(() => { child.kill('SIGTERM'); }, TCPDUMP_DEFAULTS.stopGraceMs + 5000);
          killTimer.unref();
        },
      };
    },
  };
}
