/** The CLI's window on the world, replaceable in tests. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True when stdout is a terminal (progress and colour only then). */
  isTTY: boolean;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  /** Where relative paths are resolved. */
  cwd: string;
  /** Registers a handler for Ctrl-C / SIGTERM; returns a function that unregisters it. */
  onInterrupt(handler: () => void): () => void;
  /**
   * Resolves once stdout can take more: a slow reader (`| less`) holds a producer back instead
   * of everything written queueing in memory. Absent (tests): never waits.
   */
  stdoutDrained?(): Promise<void>;
  /**
   * Registers what to do when stdout's reader goes away (EPIPE). With no handler registered
   * the process ends quietly, exit 0, as tcpdump does on SIGPIPE; a command that holds
   * something it must end first (the agent's tcpdump) registers one and winds down itself.
   * Returns a function that unregisters it. Absent (tests): stdout never closes.
   */
  onOutputClosed?(handler: () => void): () => void;
}

const outputClosedHandlers = new Set<() => void>();
let promptExit = false;

/**
 * A command asks bin.ts to end the process as soon as it returns (as after Ctrl-C with exit
 * 130): what it abandoned (a walk in flight, its sockets and agent) must not hold it open.
 */
export function requestPromptExit(): void {
  promptExit = true;
}

export function promptExitRequested(): boolean {
  return promptExit;
}

/**
 * Installs the process's stdout/stderr error policy (called once by bin.ts): a closed reader
 * goes to the handlers registered with `onOutputClosed`, else ends the process quietly with
 * exit 0; any other write error (a full disk) is one line, exit 3.
 */
export function installOutputPolicy(exitOk: number, exitWriteError: number): void {
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') {
      if (outputClosedHandlers.size === 0) process.exit(exitOk);
      for (const handler of outputClosedHandlers) handler();
      return;
    }
    process.stderr.write(`error[IO]: cannot write the output: ${err.message}\nhint: check the disk or the program reading flowtrace's output\n`);
    process.exit(exitWriteError);
  });
  process.stderr.on('error', () => { /* nowhere left to say it */ });
}

export function processIO(): CliIO {
  return {
    stdout: (t) => { process.stdout.write(t); },
    stderr: (t) => { process.stderr.write(t); },
    isTTY: Boolean(process.stdout.isTTY),
    stdin: process.stdin,
    env: process.env,
    cwd: process.cwd(),
    onInterrupt(handler) {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => { process.off('SIGINT', handler); process.off('SIGTERM', handler); };
    },
    onOutputClosed(handler) {
      outputClosedHandlers.add(handler);
      return () => { outputClosedHandlers.delete(handler); };
    },
    stdoutDrained() {
      const out = process.stdout;
      if (!out.writableNeedDrain) return Promise.resolve();
      return new Promise((resolve) => {
        const done = (): void => { out.off('drain', done); out.off('close', done); resolve(); };
        out.on('drain', done);
        out.on('close', done);
      });
    },
  };
}

/** An in-memory CliIO for tests: collects what the command printed. */
export function memoryIO(stdin?: NodeJS.ReadableStream): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out, err,
    stdout: (t) => { out.push(t); },
    stderr: (t) => { err.push(t); },
    isTTY: false,
    stdin: stdin ?? process.stdin,
    env: { ...process.env },
    cwd: process.cwd(),
    onInterrupt: () => () => {},
  };
}
