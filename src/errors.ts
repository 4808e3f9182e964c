/**
 * Every error flowtrace raises, in one module (house style: undici's errors.js).
 *
 * Each error has a stable `code` (printed as `error[CODE]`), the facts that caused it
 * (`facts`, plain data), a `hint` telling the user what to try, and the process exit code
 * the CLI uses for it. Only the CLI prints or exits; library code throws these.
 *
 * Exit codes (documented in docs/cli.md):
 *   0  success (for `follow`: the application answered 2xx/3xx)
 *   1  a check failed without a more specific code
 *   2  usage: bad arguments or options
 *   3  input: unreadable, truncated or malformed capture / file
 *   4  privilege: root or CAP_NET_RAW / CAP_NET_ADMIN needed
 *   5  dependency: a program flowtrace runs (tcpdump, dnsmasq, ip, iptables) is missing
 *   6  network: unknown host, refused, timeout, TLS (probe commands)
 *   7  lab: the lab is not up, is locked, or could not be built
 *   8  capture: the capture process failed (bad filter, unknown interface)
 *   9  agent: protocol or transport failure
 *   10–16 follow verdict: first failing layer (see FOLLOW_EXIT)
 *   17 aws: the AWS API could not be asked (credentials, permissions, region, endpoint)
 *   70 internal error (a bug)
 *   130 interrupted (Ctrl-C)
 */

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  input: 3,
  privilege: 4,
  dependency: 5,
  network: 6,
  lab: 7,
  capture: 8,
  agent: 9,
  aws: 17,
  internal: 70,
  interrupted: 130,
} as const;

/** `flowtrace follow` exit code per first failing layer. */
export const FOLLOW_EXIT = {
  dns: 10,
  route: 11,
  loadBalancer: 12,
  instance: 13,
  container: 14,
  application: 15,
  incomplete: 16,
} as const;

export type ErrorFacts = Record<string, unknown>;

export class FlowtraceError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly exitCode: number;
  readonly facts: ErrorFacts;

  constructor(code: string, message: string, hint: string, exitCode: number, facts: ErrorFacts = {}) {
    super(message);
    this.name = 'FlowtraceError';
    this.code = code;
    this.hint = hint;
    this.exitCode = exitCode;
    this.facts = facts;
  }

  toJSON(): { code: string; message: string; hint: string; facts: ErrorFacts } {
    return { code: this.code, message: this.message, hint: this.hint, facts: this.facts };
  }
}

export class UsageError extends FlowtraceError {
  constructor(message: string, hint = 'run `flowtrace help` for the commands and their options', facts: ErrorFacts = {}) {
    super('USAGE', message, hint, EXIT.usage, facts);
  }
}

/** A capture file that cannot be read: bad magic, truncated block, impossible length. */
export class CaptureFormatError extends FlowtraceError {
  constructor(message: string, facts: ErrorFacts = {}, hint = 'check that the file is a pcap or pcapng capture and was copied whole') {
    super('CAPTURE_FORMAT', message, hint, EXIT.input, facts);
  }
}

export class InputError extends FlowtraceError {
  constructor(message: string, hint: string, facts: ErrorFacts = {}) {
    super('INPUT', message, hint, EXIT.input, facts);
  }
}

export class PrivilegeError extends FlowtraceError {
  constructor(what: string, hint = 'run as root (sudo flowtrace …) or grant the capability (setcap cap_net_raw,cap_net_admin+ep $(which node))', facts: ErrorFacts = {}) {
    super('PRIVILEGE', `${what} needs privileges flowtrace does not have`, hint, EXIT.privilege, facts);
  }
}

export class MissingDependencyError extends FlowtraceError {
  constructor(program: string, debianPackage: string, facts: ErrorFacts = {}) {
    super(
      'MISSING_DEPENDENCY',
      `${program} is not installed (or not on PATH)`,
      `install it: apt-get install ${debianPackage}`,
      EXIT.dependency,
      { program, ...facts },
    );
  }
}

export class NetworkError extends FlowtraceError {
  constructor(code: string, message: string, hint: string, facts: ErrorFacts = {}) {
    super(code, message, hint, EXIT.network, facts);
  }
}

export class LabError extends FlowtraceError {
  constructor(code: string, message: string, hint: string, facts: ErrorFacts = {}) {
    super(code, message, hint, EXIT.lab, facts);
  }
}

export class CaptureError extends FlowtraceError {
  constructor(code: string, message: string, hint: string, facts: ErrorFacts = {}) {
    super(code, message, hint, EXIT.capture, facts);
  }
}

export class AgentError extends FlowtraceError {
  constructor(code: string, message: string, hint: string, facts: ErrorFacts = {}) {
    super(code, message, hint, EXIT.agent, facts);
  }
}

/** AWS configuration files (the AWS CLI's JSON output) that cannot be read: missing folder, bad JSON, wrong shape. */
export class AwsConfigError extends FlowtraceError {
  constructor(code: string, message: string, hint: string, facts: ErrorFacts = {}) {
    super(code, message, hint, EXIT.input, facts);
  }
}

/** The AWS API refused or could not be reached (no credentials, access denied, unknown region, endpoint down). */
export class AwsApiError extends FlowtraceError {
  constructor(code: string, message: string, hint: string, facts: ErrorFacts = {}) {
    super(code, message, hint, EXIT.aws, facts);
  }
}

/**
 * The server side reached over ssh without an agent (remote/): the connection (host key,
 * authentication, reachability), a program missing on the server, or sudo refusing one of
 * the documented commands. The exit code says which kind: transport 9, missing 5, sudo 4.
 */
export class RemoteError extends FlowtraceError {
  constructor(code: string, message: string, hint: string, exitCode: number = EXIT.agent, facts: ErrorFacts = {}) {
    super(code, message, hint, exitCode, facts);
  }
}

export function isFlowtraceError(err: unknown): err is FlowtraceError {
  return err instanceof FlowtraceError;
}
