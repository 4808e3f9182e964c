/**
 * Every command the agentless path runs on a server, as one list: what it reads, whether it
 * needs root (then it runs as `sudo -n PATH ARGS…`), the exact arguments allowed, and the
 * sudoers line that allows exactly those. The remote runner refuses any argv not on this list
 * before anything is sent, and docs/agent.md prints the lines generated here — so the lines
 * a server's owner grants and the commands flowtrace runs cannot drift apart.
 *
 * Arguments are matched as the words joined by single spaces against an anchored regular
 * expression; no word but the capture filter may hold a space. A privileged command with
 * variable arguments is written in sudoers in a form that cannot be widened: the capture's
 * filter is the last word after `--` (tcpdump takes every word after it as the expression),
 * so `*` there is safe with any sudo; the container commands (`nsenter` into a namespace)
 * vary in the middle and use sudo's `^regex$` arguments (sudo ≥ 1.9.10). sudoers(5):
 * "Wildcards in command line arguments … `*` matches white space"; the characters `,` `:`
 * `=` `\` in a fixed argument are escaped.
 */
import { DOCKER_INSPECT_FORMAT, TCPDUMP_DEFAULTS } from '../capture/index.js';

/** The programs the agentless path runs. */
export const REMOTE_PROGRAMS = ['timeout', 'tcpdump', 'ip', 'ss', 'nsenter', 'lsns', 'iptables-save', 'ip6tables-save', 'nft', 'sysctl', 'cat', 'docker'] as const;
export type RemoteProgram = (typeof REMOTE_PROGRAMS)[number];

/** Full path of each program on the server (what `command -v` found); absent: not installed. */
export type ProgramPaths = Partial<Record<RemoteProgram, string>>;

/** Where Debian and Ubuntu install them: the paths of the sudoers lines in docs/agent.md. */
export const DEBIAN_PATHS: Readonly<Record<RemoteProgram, string>> = {
  timeout: '/usr/bin/timeout', tcpdump: '/usr/bin/tcpdump', ip: '/usr/bin/ip', ss: '/usr/bin/ss', nsenter: '/usr/bin/nsenter',
  lsns: '/usr/bin/lsns', 'iptables-save': '/usr/sbin/iptables-save', 'ip6tables-save': '/usr/sbin/ip6tables-save',
  nft: '/usr/sbin/nft', sysctl: '/usr/sbin/sysctl', cat: '/usr/bin/cat', docker: '/usr/bin/docker',
};

/**
 * The remote capture's own bounds, fixed so that its sudoers line has no variable but the
 * filter: tcpdump ends after this many seconds (coreutils `timeout`, SIGINT so it flushes)
 * or packets, whatever flowtrace does. flowtrace stops it much earlier (stdin closed, see
 * ./engine.ts); these hold when flowtrace cannot (killed, connection gone unnoticed).
 */
export const REMOTE_CAPTURE = {
  /** The longest capture asked of a server (the agent's own cap, docs/agent.md). */
  maxDurationMs: 300_000,
  lifetimeSec: 330,
  killAfterSec: 5,
  maxPackets: 1_000_000,
  /** flowtrace writes a byte to the capture's input this often… */
  heartbeatSec: 5,
  /** …and the watchdog ends the capture when none came for this long (a connection lost unnoticed). */
  silenceSec: 20,
} as const;

/** The argument words of the capture, before its filter (`tcpdump` is the server's path). */
function captureWords(tcpdump: string): string[] {
  return [
    '--signal=INT', `--kill-after=${REMOTE_CAPTURE.killAfterSec}`, String(REMOTE_CAPTURE.lifetimeSec), tcpdump,
    '-i', 'any', '-w', '-', '-U', '--immediate-mode', '-s', String(TCPDUMP_DEFAULTS.snaplenBytes), '-B', String(TCPDUMP_DEFAULTS.bufferKiB),
    '-Z', 'root', '-c', String(REMOTE_CAPTURE.maxPackets), '--',
  ];
}

/** The capture's argv on the server (run through sudo): `timeout … tcpdump … -- FILTER`. */
export function captureArgv(paths: { timeout: string; tcpdump: string }, filter: string): string[] {
  return [paths.timeout, ...captureWords(paths.tcpdump), filter];
}

const ADDR = '[0-9a-fA-F.:]+';
const IFACE = '[A-Za-z0-9._@-]+';
const SYSCTL_KEYS = '( [a-z][A-Za-z0-9._@/-]*)+';
const NAMESPACE = '(/proc/[0-9]+/ns/net|/run/netns/[A-Za-z0-9._-]+)';

/** What runs inside a container's namespace (`nsenter --net=PATH …`): programs by name, root's PATH. */
const IN_NAMESPACE = [
  'ip -j -d addr show', 'ip -j neigh show', `ip -j route get ${ADDR}( from ${ADDR})?( iif ${IFACE})?`, 'ip -[46] -j route show table all',
  'ss -ltnHp', 'iptables-save -c', 'ip6tables-save -c', 'nft -j list ruleset',
  'cat /proc/net/netstat /proc/net/snmp /proc/net/stat/nf_conntrack', `sysctl -e${SYSCTL_KEYS}`,
].join('|');

/** A command of the list. */
export interface RemoteCommand {
  /** Stable id (messages, docs). */
  id: string;
  program: RemoteProgram;
  /** Runs as root through `sudo -n` (unless the ssh user is root). */
  privileged: boolean;
  /** Anchored pattern of the argument words joined by single spaces (a POSIX ERE that is also a JS RegExp). */
  args: string;
  /** For a privileged command: its arguments as the sudoers line writes them. */
  sudoersArgs: string | null;
  /** What flowtrace reads with it, for the docs and for "not allowed" lines. */
  purpose: string;
  /** Only some words may hold a space: the capture's filter (the last word). */
  spacedLastWord?: boolean;
}

/** sudoers(5): these characters are escaped in a fixed command argument. */
function sudoersEscape(text: string): string {
  return text.replace(/([\\,:=])/g, '\\$1');
}

function regexEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A privileged command with fixed arguments. */
function fixed(id: string, program: RemoteProgram, args: string, purpose: string): RemoteCommand {
  return { id, program, privileged: true, args: `^${regexEscape(args)}$`, sudoersArgs: sudoersEscape(args), purpose };
}

/**
 * The list, for a server whose programs are at `paths` (the capture's argv names tcpdump by
 * its path, and so does its sudoers line).
 */
export function remoteCommands(paths: ProgramPaths = DEBIAN_PATHS): RemoteCommand[] {
  const tcpdump = paths.tcpdump ?? DEBIAN_PATHS.tcpdump;
  const capture = captureWords(tcpdump).join(' ');
  return [
    {
      id: 'capture', program: 'timeout', privileged: true, args: `^${regexEscape(capture)} .*$`,
      sudoersArgs: `${sudoersEscape(capture)} *`, spacedLastWord: true,
      purpose: 'the capture: tcpdump on every interface, the filter last, ended after 330 s or 1 000 000 packets at the latest',
    },
    fixed('nat', 'iptables-save', '-t nat', 'the NAT rules the capture filter follows (port 80 → the container\'s 8080)'),
    fixed('iptables', 'iptables-save', '-c', 'netfilter rules with their counters (IPv4)'),
    fixed('ip6tables', 'ip6tables-save', '-c', 'netfilter rules with their counters (IPv6)'),
    fixed('nft', 'nft', '-j list ruleset', 'nftables rules with their counters'),
    fixed('listeners', 'ss', '-ltnHp', 'listening sockets and their processes'),
    fixed('namespaces', 'lsns', '-t net -J -o NS,PID,NETNSID,NSFS,COMMAND', 'the network namespaces behind the veths (containers)'),
    {
      id: 'containers', program: 'nsenter', privileged: true, args: `^--net=${NAMESPACE} (${IN_NAMESPACE})$`,
      sudoersArgs: `^--net=${NAMESPACE} (${IN_NAMESPACE})$`,
      purpose: 'the same facts inside each container\'s namespace (sudo 1.9.10 or newer reads this line; older: container rows are not checked)',
    },
    fixed('docker-ps', 'docker', 'ps -q --no-trunc', 'the running containers (when Docker is installed)'),
    {
      id: 'docker-inspect', program: 'docker', privileged: true,
      args: `^inspect --format ${regexEscape(DOCKER_INSPECT_FORMAT)}( [0-9a-f]{64})+$`,
      sudoersArgs: `inspect --format ${sudoersEscape(DOCKER_INSPECT_FORMAT)} *`,
      purpose: 'each container\'s main process, name and image (when Docker is installed)',
    },
    // Unprivileged: no sudoers line, still only these arguments.
    { id: 'links', program: 'ip', privileged: false, args: `^-j -d (link|addr) show$|^-j neigh show$|^-j netns list-id$|^-j route get ${ADDR}( from ${ADDR})?( iif ${IFACE})?$|^-[46] -j route show table all$`, sudoersArgs: null, purpose: 'interfaces, addresses, neighbours, route lookups, the named namespaces (lsns lists only those with a process)' },
    { id: 'sysctl', program: 'sysctl', privileged: false, args: `^-e${SYSCTL_KEYS}$`, sudoersArgs: null, purpose: 'ip_forward, rp_filter, conntrack limits' },
    { id: 'counters', program: 'cat', privileged: false, args: '^/proc/net/netstat /proc/net/snmp /proc/net/stat/nf_conntrack$', sudoersArgs: null, purpose: 'kernel and conntrack counters' },
  ];
}


/** The command of the list `program args…` is, or null. */
export function findRemoteCommand(commands: readonly RemoteCommand[], program: string, args: readonly string[]): RemoteCommand | null {
  for (const c of commands) {
    if (c.program !== program) continue;
    const spaced = args.findIndex((w) => /\s/.test(w));
    if (spaced >= 0 && !(c.spacedLastWord && spaced === args.length - 1 && args.slice(0, -1).every((w) => !/\s/.test(w)))) continue;
    if (new RegExp(c.args).test(args.join(' '))) return c;
  }
  return null;
}

/** The sudoers line that allows one command for `user` (paths of the server). */
export function sudoersLine(user: string, command: RemoteCommand, paths: ProgramPaths = DEBIAN_PATHS): string {
  const path = paths[command.program] ?? DEBIAN_PATHS[command.program];
  return `${user} ALL=(root) NOPASSWD: ${path} ${command.sudoersArgs ?? ''}`.trimEnd();
}

/**
 * Every sudoers line the agentless path needs for `user`, in the list's order (the capture
 * first). Docker's lines only when `docker` is true.
 */
export function sudoersLines(user: string, paths: ProgramPaths = DEBIAN_PATHS, options: { docker?: boolean } = {}): string[] {
  return remoteCommands(paths)
    .filter((c) => c.privileged && (options.docker !== false || c.program !== 'docker'))
    .map((c) => sudoersLine(user, c, paths));
}
