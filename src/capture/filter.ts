/**
 * Applying a pcap-filter expression (`port 80`, `host 10.0.0.1 and tcp`) to a capture file
 * with libpcap itself: real `tcpdump -r INPUT -w - FILTER…` (argv, never a shell), whose pcap
 * output is read as a stream. Shared by `flowtrace read` and `flowtrace analyze`.
 *
 * Note: tcpdump writes pcap, so a pcapng input loses its interface names and per-packet
 * comments through the filter; SLL2 (`-i any`) captures keep their ifindex + direction.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { CaptureError, InputError, MissingDependencyError } from '../errors.js';

/** The most of tcpdump's stderr kept for an error message. */
const MAX_STDERR_BYTES = 4096;

/**
 * A readable stream of the packets of `input` (a path, or a stream such as stdin) that match
 * `filter`. The stream errors with CaptureError BAD_FILTER (libpcap's message) when tcpdump
 * rejects the expression or fails, MissingDependencyError when tcpdump is not installed.
 */
export function filteredCaptureStream(input: string | NodeJS.ReadableStream, filter: string[], signal?: AbortSignal): Readable {
  const fromStdin = typeof input !== 'string';
  if (!fromStdin) checkReadable(input as string);
  const argv = ['-r', fromStdin ? '-' : input, '-w', '-', ...filter];
  const out = new PassThrough();
  const child = spawn('tcpdump', argv, { stdio: [fromStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let settled = false;
  const fail = (err: Error): void => {
    if (settled) return;
    settled = true;
    out.destroy(err);
  };
  child.on('error', (err: NodeJS.ErrnoException) => {
    fail(err.code === 'ENOENT' ? new MissingDependencyError('tcpdump', 'tcpdump', { filter: filter.join(' ') }) : err);
  });
  child.stderr!.on('data', (chunk: Buffer) => { if (stderr.length < MAX_STDERR_BYTES) stderr += chunk.toString(); });
  child.stdout!.pipe(out, { end: false });
  child.on('close', (code, sig) => {
    if (settled) return;
    if (code === 0) { settled = true; out.end(); return; }
    const message = stderr.split('\n').map((l) => l.replace(/^tcpdump: /, '').trim())
      .filter((l) => l && !l.startsWith('reading from') && !l.startsWith('Warning')).join('; ') || `tcpdump exited with ${code ?? sig}`;
    fail(new CaptureError('BAD_FILTER', `tcpdump could not apply the filter '${filter.join(' ')}': ${message}`,
      'check the pcap-filter expression (man pcap-filter), e.g. "tcp port 80 or tcp port 8080"', { filter: filter.join(' '), exitCode: code }));
  });
  if (fromStdin) {
    const stdin = child.stdin!;
    stdin.on('error', () => { /* tcpdump exited early (bad filter): reported by 'close' */ });
    (input as NodeJS.ReadableStream).pipe(stdin);
  }
  const onAbort = (): void => { if (child.exitCode === null) child.kill('SIGTERM'); };
  signal?.addEventListener('abort', onAbort, { once: true });
  out.on('close', () => {
    signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  });
  return out;
}

/** tcpdump's own message for a missing file would read like a filter error: check first. */
function checkReadable(file: string): void {
  try {
    if (statSync(file).isDirectory()) throw new InputError(`cannot read ${file}: it is a directory`, 'give a capture file, e.g. one written by tcpdump -w', { path: file });
    accessSync(file, constants.R_OK);
  } catch (err) {
    if (err instanceof InputError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message}`,
      'check the path (use - to read from stdin)', { path: file, errno: code });
  }
}
