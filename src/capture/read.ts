/**
 * readCapture: drives a CaptureParser from a file (read into one reused buffer: no
 * allocation per chunk), from stdin (`-`) or from any readable stream.
 */
import { closeSync, constants as fsConstants, open as openFd, close as closeFd, openSync } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { Socket } from 'node:net';
import { isatty } from 'node:tty';
import { InputError } from '../errors.js';
import { CaptureParser } from './parser.js';
import type { CaptureEvents, ReadSummary } from './types.js';

/** Bytes per read from a file: big enough that per-read overhead vanishes, small enough for the cache. */
export const READ_CHUNK_BYTES = 1024 * 1024;
/** Bytes handed to the parser at once: between two, the reader looks at the clock. */
const PARSE_SLICE_BYTES = 64 * 1024;
/**
 * Longest stretch of parsing (and of what the consumer does per packet) before the event loop
 * runs: a stop (Ctrl-C, SIGTERM, an abort) is then seen within about this long, whatever one
 * chunk of a hostile input costs.
 */
export const YIELD_AFTER_MS = 50;

/**
 * Hands chunks to the parser in slices and lets the event loop run whenever parsing has held
 * it for YIELD_AFTER_MS; after each such pause an abort is honoured (rejects with its reason).
 */
class Feeder {
  private lastYield = performance.now();

  constructor(private readonly parser: CaptureParser, private readonly signal: AbortSignal | undefined, private readonly progress: ReadProgress | undefined) {}

  async push(bytes: Uint8Array): Promise<void> {
    for (let off = 0; off < bytes.length; off += PARSE_SLICE_BYTES) {
      const slice = bytes.length <= PARSE_SLICE_BYTES ? bytes : bytes.subarray(off, off + PARSE_SLICE_BYTES);
      this.parser.push(slice);
      if (this.progress !== undefined) {
        this.progress.packets = this.parser.packets;
        this.progress.bytes += slice.length;
      }
      if (performance.now() - this.lastYield >= YIELD_AFTER_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        this.lastYield = performance.now();
        this.signal?.throwIfAborted();
      }
    }
  }

  /** The event loop ran (a read was awaited): the stretch starts again. */
  ran(): void {
    this.lastYield = performance.now();
  }
}

export interface ReadOptions {
  /** Stops reading; readCapture then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Called after each chunk is parsed; when it returns a promise, the next chunk waits for it.
   * A consumer slower than the file (stdout into a pager) holds the reading back with it, so
   * memory stays bounded instead of queueing everything that was decoded.
   */
  pace?: () => Promise<void> | void;
  /** Updated as the input is parsed (every 64 KiB at most): how far a stopped read got. */
  progress?: ReadProgress;
}

export interface ReadProgress {
  /** Packets delivered so far. */
  packets: number;
  /** Input bytes handed to the parser so far. */
  bytes: number;
}

function openError(path: string, err: NodeJS.ErrnoException): InputError {
  switch (err.code) {
    case 'ENOENT': return new InputError(`cannot read ${path}: no such file`, 'check the path (use - to read from stdin)', { path, errno: err.code });
    case 'EISDIR': return new InputError(`cannot read ${path}: it is a directory`, 'give a capture file, e.g. one written by tcpdump -w', { path, errno: err.code });
    case 'EACCES': case 'EPERM': return new InputError(`cannot read ${path}: permission denied`, 'check the file permissions (captures written by root are often 0600)', { path, errno: err.code });
    default: return new InputError(`cannot read ${path}: ${err.message}`, 'check that the file exists and is readable', { path, errno: err.code });
  }
}

/**
 * Reads a whole capture, calling `events` for every interface, packet and statistics block.
 * `input` is a path, `-` for stdin, or a readable stream. Resolves with the summary (a file
 * cut mid-record resolves too, with `truncated` set and a warning); rejects with
 * CaptureFormatError for a file-level error, InputError when the input cannot be read.
 */
export async function readCapture(input: string | NodeJS.ReadableStream, events: CaptureEvents, options: ReadOptions = {}): Promise<ReadSummary> {
  const parser = new CaptureParser(events);
  const signal = options.signal;
  signal?.throwIfAborted();
  const pace = options.pace;
  const feeder = new Feeder(parser, signal, options.progress);
  if (input === '-') return readStream(process.stdin, parser, feeder, signal, pace);
  if (typeof input !== 'string') return readStream(input, parser, feeder, signal, pace);
  if (await isPipe(input)) return readStream(await openPipe(input, signal), parser, feeder, signal, pace);
  let handle: FileHandle;
  try {
    handle = await open(input, 'r');
  } catch (err) {
    throw openError(input, err as NodeJS.ErrnoException);
  }
  if (isatty(handle.fd)) {
    await handle.close();
    throw terminalError(input);
  }
  try {
    // Plain Uint8Arrays, not Buffers: packet views are made with subarray(), and
    // Uint8Array's is several times cheaper than Buffer's (no FastBuffer per packet).
    // Two buffers: the next read runs in the thread pool while this one is parsed.
    let current = new Uint8Array(READ_CHUNK_BYTES);
    let spare = new Uint8Array(READ_CHUNK_BYTES);
    const readInto = (buffer: Uint8Array): Promise<number> => handle.read(buffer, 0, buffer.length, null).then(
      (r) => r.bytesRead,
      (err: unknown) => { throw openError(input, err as NodeJS.ErrnoException); },
    );
    let pending: Promise<number> | null = readInto(current);
    try {
      for (;;) {
        const bytesRead: number = await pending!;
        pending = null;
        feeder.ran();
        signal?.throwIfAborted();
        if (bytesRead === 0) break;
        if (bytesRead === current.length) {
          // Reads are issued one after the other, so the file position stays in order.
          pending = readInto(spare);
          await feeder.push(current);
          [current, spare] = [spare, current];
          const paced = pace?.();
          if (paced) await untilPacedOrAborted(paced, signal);
        } else {
          // A short read (the end, or a FIFO given by name): parse, then read on into the same buffer.
          await feeder.push(current.subarray(0, bytesRead));
          const paced = pace?.();
          if (paced) await untilPacedOrAborted(paced, signal);
          pending = readInto(current);
        }
      }
    } finally {
      // Never close the handle under a read still running.
      if (pending !== null) await pending.catch(() => 0);
    }
  } finally {
    await handle.close();
  }
  return parser.end();
}

/** Waits for the consumer's pace, or rejects at once with the abort (Ctrl-C while a pager holds the output). */
function untilPacedOrAborted(paced: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return paced;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    paced.then(
      () => { signal.removeEventListener('abort', onAbort); resolve(); },
      (err: unknown) => { signal.removeEventListener('abort', onAbort); reject(err); },
    );
  });
}

/** How often an aborted open of a FIFO is released again until it returns. */
const RELEASE_RETRY_MS = 20;

/** A FIFO (mkfifo, or /dev/stdin when stdin is a pipe). */
export async function isPipe(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFIFO();
  } catch {
    return false; // open() says what is wrong
  }
}

/**
 * Opens a FIFO as a stream the event loop reads, so Ctrl-C stops it
 * at once: a FileHandle's read of a silent pipe (and the open of a FIFO without a writer)
 * blocks a thread-pool thread, and neither the abort nor the process's exit could end it.
 * Opening still waits for a writer, as tcpdump -r FIFO does; an abort during that wait
 * releases it by opening the FIFO for writing and closing it at once (no byte is written).
 */
export function openPipe(path: string, signal?: AbortSignal): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    let opened = false;
    let retry: NodeJS.Timeout | undefined;
    const releaseOpen = (): void => {
      if (opened) return;
      try {
        closeSync(openSync(path, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK));
      } catch {
        // ENXIO: our open has not reached the kernel yet (it runs in the thread pool): again soon.
        retry = setTimeout(releaseOpen, RELEASE_RETRY_MS);
      }
    };
    signal?.addEventListener('abort', releaseOpen, { once: true });
    openFd(path, 'r', (err, fd) => {
      opened = true;
      clearTimeout(retry);
      signal?.removeEventListener('abort', releaseOpen);
      if (err) return reject(openError(path, err));
      if (signal?.aborted) { closeFd(fd, () => {}); return reject(signal.reason); }
      resolve(new Socket({ fd, readable: true, writable: false }));
    });
  });
}

/**
 * Reading a capture from a terminal would wait forever for bytes nobody types: a stream that
 * is a TTY (stdin not redirected, `flowtrace read -` typed alone) is refused at once.
 */
export function refuseTerminal(stream: NodeJS.ReadableStream): void {
  if ((stream as { isTTY?: boolean }).isTTY === true) throw terminalError('stdin');
}

/** The same for a terminal given by name (`/dev/tty`, `/dev/stdin` on a terminal). */
export async function refuseTerminalPath(path: string): Promise<void> {
  try {
    if (!(await stat(path)).isCharacterDevice()) return;
  } catch {
    return; // open() says what is wrong
  }
  const handle = await open(path, 'r').catch(() => null);
  if (handle === null) return;
  const tty = isatty(handle.fd);
  await handle.close();
  if (tty) throw terminalError(path);
}

function terminalError(name: string): InputError {
  return new InputError(`${name} is a terminal, not a capture`, 'pipe a capture in, e.g. tcpdump -i any -w - | flowtrace read -, or give a file name');
}

async function readStream(stream: NodeJS.ReadableStream, parser: CaptureParser, feeder: Feeder, signal: AbortSignal | undefined, pace: ReadOptions['pace']): Promise<ReadSummary> {
  refuseTerminal(stream);
  const onAbort = (): void => {
    // Ends the for-await below; the check after it turns it into the abort reason.
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of stream) {
      signal?.throwIfAborted();
      if (typeof chunk === 'string') throw new InputError('the capture stream is in text mode', 'do not set an encoding on the stream given to readCapture');
      const bytes = chunk as Uint8Array;
      // Re-viewed as a plain Uint8Array for the same reason as above (one view per chunk).
      await feeder.push(Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes);
      const paced = pace?.();
      if (paced) await untilPacedOrAborted(paced, signal);
    }
  } catch (err) {
    signal?.throwIfAborted();
    if (err instanceof Error && 'code' in err && typeof (err as NodeJS.ErrnoException).code === 'string' && !(err as { hint?: unknown }).hint) {
      throw new InputError(`cannot read the input stream: ${err.message}`, 'check the program writing to the pipe', { errno: (err as NodeJS.ErrnoException).code });
    }
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  signal?.throwIfAborted();
  return parser.end();
}
