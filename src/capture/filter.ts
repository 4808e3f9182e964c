/**
 * Applying a pcap-filter expression (`port 80`, `host 10.0.0.1 and tcp`) to a capture with
 * libpcap itself: real `tcpdump -r - -w - -U -- FILTER` (argv, never a shell; after `--`, so a
 * word starting with '-' is part of the expression, never a tcpdump option), whose pcap output
 * is read as a stream. The one filter pipe of `flowtrace read` and `flowtrace analyze`.
 *
 * tcpdump writes pcap, so a pcapng input loses its interface names and per-packet comments
 * through the filter: the first chunk of the input is also parsed here to learn the original
 * interfaces (a single named interface keeps its name). SLL2 (`-i any`) captures keep their
 * ifindex + direction. Problems are said in flowtrace's words: a missing file, a file that is
 * not a capture (our own reader's message), a filter libpcap rejects (libpcap's message), and
 * a truncated input (not an error: the packets before the cut, then libpcap's words).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { CaptureError, CaptureFormatError, InputError, MissingDependencyError } from '../errors.js';
import { CaptureParser } from './parser.js';
import { isPipe, openPipe, refuseTerminal, refuseTerminalPath } from './read.js';
import type { CaptureInterface } from './types.js';

/** The most of tcpdump's stderr kept for an error message. */
const MAX_STDERR_CHARS = 8192;
const READ_CHUNK_BYTES = 1 << 20;

export interface FilteredCapture {
  /** The matching packets, as pcap. */
  output: Readable;
  /**
   * Settles when tcpdump is done: null, or libpcap's words when the input ends inside a record
   * (the packets before the cut were written). Rejects with BAD_FILTER, INPUT, CAPTURE_FORMAT or
   * MISSING_DEPENDENCY.
   */
  done: Promise<string | null>;
  /** The original input's interfaces (empty until the first chunk was read, or for pcap). */
  originalInterfaces(): CaptureInterface[];
  /** Ends tcpdump (the PID started here) if it still runs. */
  stop(): void;
}

/** Runs `input` (a path, or a stream such as stdin) through libpcap's filter. */
export function filterCapture(input: string | NodeJS.ReadableStream, filter: readonly string[], signal?: AbortSignal): FilteredCapture {
  const expression = filter.join(' ');
  const path = typeof input === 'string' ? input : '-';
  if (typeof input !== 'string') refuseTerminal(input);
  const child: ChildProcess = spawn('tcpdump', ['-r', '-', '-w', '-', '-U', '--', ...filter], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (t: string) => { if (stderr.length < MAX_STDERR_CHARS) stderr += t; });
  /** Ended by stop() or `signal`: releases a FIFO still waiting for its writer (read.ts openPipe). */
  const stopping = new AbortController();
  const source: NodeJS.ReadableStream = typeof input === 'string' ? openSource(input, stopping.signal) : input;

  const sniffed: CaptureInterface[] = [];
  const sniffer = new CaptureParser({ onPacket: () => {}, onInterface: (i) => { sniffed.push({ ...i }); } });
  let sniffing = true;
  let openError: Error | null = null;
  /** Our own reading of a file-level problem (bad magic, empty input): said instead of tcpdump's words. */
  let sniffError: Error | null = null;
  let bytesIn = 0;
  source.on('data', (chunk: Buffer) => {
    bytesIn += chunk.length;
    if (!sniffing) return;
    sniffing = false; // the first chunk holds the section header and the interfaces
    try {
      sniffer.push(chunk);
    } catch (err) {
      if (err instanceof CaptureFormatError) sniffError = err;
    }
  });
  source.on('end', () => {
    if (bytesIn > 0) return;
    try {
      sniffer.end();
    } catch (err) {
      if (err instanceof CaptureFormatError) sniffError = err; // "the input is empty (0 bytes)", as without a filter
    }
  });
  source.on('error', (err: NodeJS.ErrnoException) => {
    openError = err instanceof InputError ? err
      : err.code === 'ENOENT'
      ? new InputError(`cannot read ${path}: no such file`, 'check the path (use - to read from stdin)', { path })
      : err.code === 'EISDIR'
      ? new InputError(`cannot read ${path}: it is a directory`, 'give a capture file, e.g. one written by tcpdump -w', { path })
      : err.code === 'EACCES'
      ? new InputError(`cannot read ${path}: permission denied`, 'check the file\'s permissions (or run as its owner)', { path })
      : new InputError(`cannot read ${path}: ${err.message}`, 'check that the file exists and is readable', { path });
    child.stdin!.destroy();
  });
  child.stdin!.on('error', () => { /* tcpdump exited early (bad filter): reported from its exit */ });
  source.pipe(child.stdin!);
  const output = new PassThrough();
  child.stdout!.pipe(output);

  const done = new Promise<string | null>((resolveDone, rejectDone) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      output.end();
      rejectDone(err.code === 'ENOENT' ? new MissingDependencyError('tcpdump', 'tcpdump', { reason: 'FILTER is applied by libpcap through tcpdump' }) : err);
    });
    child.on('close', (code, sig) => {
      // Nothing reads the input any more: a stdin still being written (cat huge.pcap, a live
      // tcpdump) would otherwise keep the process alive after the command has finished.
      source.unpipe(child.stdin!);
      (source as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      if (openError) return rejectDone(openError);
      if (code === 0 || sig !== null) return resolveDone(null);
      const message = stderr.split('\n').map((l) => l.replace(/^tcpdump: /, '').trim())
        .filter((l) => l && !l.startsWith('reading from') && !l.startsWith('Warning'))[0] ?? `tcpdump exited with ${code}`;
      // A cut file: tcpdump wrote the packets before the cut; as without a filter this is a warning.
      if (/^pcap_loop: truncated/i.test(message)) return resolveDone(message.replace(/^pcap_loop: /, ''));
      // pcap_loop's words are about the records read after the filter was compiled, never the filter.
      if (/syntax error|illegal|unknown|expression rejects|can't|not a|invalid|parse error/i.test(message) && !/^pcap_loop:|truncated|bad dump file|unknown file format/i.test(message)) {
        rejectDone(new CaptureError('BAD_FILTER', `filter '${expression}' rejected by libpcap: ${message}`, 'check the filter syntax (man pcap-filter), e.g. tcp port 80 and host 10.0.0.2', { filter: expression }));
      } else if (sniffError !== null) {
        rejectDone(sniffError);
      } else {
        rejectDone(new InputError(`tcpdump could not read the capture to filter it: ${message}`, 'check that the file is a pcap or pcapng capture (reading it without a filter says more)', { path }));
      }
    });
  });
  // Errors on the output side surface through `done`.
  done.catch(() => { output.end(); });
  const stop = (): void => {
    stopping.abort(new Error('stopped'));
    if (typeof input === 'string') (source as PassThrough).destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  signal?.addEventListener('abort', stop, { once: true });
  void done.finally(() => signal?.removeEventListener('abort', stop)).catch(() => {});
  return { output, done, originalInterfaces: () => sniffed, stop };
}

/**
 * A file as a stream; a FIFO through openPipe, whose reads the event loop does, so stop()
 * ends them (createReadStream's would hold a thread-pool thread, and the process, until the
 * writer writes or closes).
 */
function openSource(file: string, stopped: AbortSignal): NodeJS.ReadableStream {
  const out = new PassThrough({ highWaterMark: READ_CHUNK_BYTES });
  void isPipe(file).then(async (pipe) => {
    if (!pipe) await refuseTerminalPath(file);
    const inner: Readable = pipe ? (await openPipe(file, stopped)) as Readable : createReadStream(file, { highWaterMark: READ_CHUNK_BYTES });
    inner.on('error', (err: Error) => out.destroy(err));
    out.on('close', () => inner.destroy());
    inner.pipe(out);
  }).catch((err: Error) => out.destroy(err));
  return out;
}

/**
 * The matching packets as one stream, for readers that only consume a stream: errors of the
 * filter destroy it; a truncated input ends it after the packets before the cut and calls
 * `onWarning` with libpcap's words.
 */
export function filteredCaptureStream(input: string | NodeJS.ReadableStream, filter: readonly string[], signal?: AbortSignal, onWarning?: (message: string) => void): Readable {
  const f = filterCapture(input, filter, signal);
  const out = new PassThrough();
  f.output.pipe(out, { end: false });
  const finish = (truncated: string | null): void => {
    if (truncated !== null) onWarning?.(`the input ends inside a record (libpcap: ${truncated}); the matching packets before it were read`);
    if (f.output.readableEnded) out.end(); else f.output.once('end', () => out.end());
  };
  f.done.then(finish, (err: Error) => out.destroy(err));
  out.on('close', () => f.stop());
  return out;
}
