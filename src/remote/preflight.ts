/**
 * What a server has, read in one round trip before anything runs there: who we are (`id`),
 * where each program is (`command -v`, with the sbin directories a login PATH may lack —
 * RHEL keeps tcpdump in /usr/sbin), the distribution (for the install hint), and — as a user
 * other than root — what sudo allows, asked with `sudo -n -l ARGV` (sudo says whether it
 * would run exactly that, runs nothing and never prompts): the capture exactly as it runs,
 * and `flowtrace agent` when flowtrace is there.
 *
 * The script is fixed text of this file; the capture's argv in it is remote/commands.ts's,
 * its words quoted (./words.ts), the two program paths the shell found put in as variables.
 */
import { REMOTE_PROGRAMS, captureArgv, type ProgramPaths, type RemoteProgram } from './commands.js';
import { shellWord } from './words.js';
import type { SshConnection } from './ssh.js';

export interface RemoteHost {
  /** The login name on the server (the sudoers lines are written for it). */
  user: string;
  uid: number;
  /** The programs found, by full path. */
  paths: ProgramPaths;
  sudo: string | null;
  flowtrace: string | null;
  /** /etc/os-release's ID and ID_LIKE words (`debian`, `amzn fedora rhel`…). */
  os: string[];
  /** sudo allows the capture exactly as it runs (true for root). */
  captureAllowed: boolean;
  /** sudo allows `flowtrace agent` (the agent can be used). */
  agentAllowed: boolean;
}

const PATH_EXTRA = '/usr/local/sbin:/usr/sbin:/sbin';

const TIMEOUT_HERE = '\u0000timeout';
const TCPDUMP_HERE = '\u0000tcpdump';

/** `sudo -n -l` of the capture's argv, with the paths the script found in $o (timeout) and $t (tcpdump). */
function captureCheck(): string {
  const words = captureArgv({ timeout: TIMEOUT_HERE, tcpdump: TCPDUMP_HERE }, 'port 80')
    .map((w) => (w === TIMEOUT_HERE ? '"$o"' : w === TCPDUMP_HERE ? '"$t"' : shellWord(w)));
  return `sudo -n -l ${words.join(' ')} >/dev/null 2>&1; echo "sudo capture $?"`;
}

/** The preflight's script. */
export const PREFLIGHT_SCRIPT = [
  `PATH="$PATH:${PATH_EXTRA}"`,
  'echo "user $(id -un) $(id -u)"',
  `for p in flowtrace sudo ${REMOTE_PROGRAMS.join(' ')}; do echo "path $p $(command -v "$p" 2>/dev/null)"; done`,
  '[ -r /etc/os-release ] && grep -E \'^(ID|ID_LIKE)=\' /etc/os-release | sed \'s/^/os /\'',
  'o=$(command -v timeout 2>/dev/null); t=$(command -v tcpdump 2>/dev/null)',
  // As the agent transport runs it: `sudo -n flowtrace agent` (sudo finds it in its secure_path).
  `if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then if [ -n "$o" ] && [ -n "$t" ]; then ${captureCheck()}; fi; if command -v flowtrace >/dev/null 2>&1; then sudo -n -l flowtrace agent >/dev/null 2>&1; echo "sudo agent $?"; fi; fi`,
  'true',
].join('; ');

/** Parses the script's output (the sudo answers: `parseSudoAnswers`). */
export function parsePreflight(stdout: string): Omit<RemoteHost, 'captureAllowed' | 'agentAllowed'> {
  let user = '';
  let uid = -1;
  const paths: ProgramPaths = {};
  let sudo: string | null = null;
  let flowtrace: string | null = null;
  const os: string[] = [];
  for (const line of stdout.split('\n')) {
    const [kind, a, ...rest] = line.trim().split(/\s+/);
    if (kind === 'user' && a !== undefined) { user = a; uid = Number(rest[0] ?? -1); continue; }
    if (kind === 'path' && a !== undefined) {
      const p = rest[0];
      if (p === undefined || !p.startsWith('/')) continue; // not found (or a shell builtin/alias)
      if (a === 'sudo') sudo = p;
      else if (a === 'flowtrace') flowtrace = p;
      else if ((REMOTE_PROGRAMS as readonly string[]).includes(a)) paths[a as RemoteProgram] = p;
      continue;
    }
    if (kind === 'os' && a !== undefined) os.push(...[a, ...rest].join(' ').replace(/^(ID|ID_LIKE)=/, '').replace(/["']/g, '').split(/\s+/).filter((w) => w !== ''));
  }
  return { user, uid, paths, sudo, flowtrace, os };
}

/** Reads what the server has (one round trip). */
export async function preflight(conn: SshConnection): Promise<RemoteHost> {
  const r = await conn.exec(PREFLIGHT_SCRIPT, { timeoutMs: 15_000 });
  const found = parsePreflight(r.stdout);
  if (found.uid === 0) return { ...found, captureAllowed: true, agentAllowed: found.flowtrace !== null };
  return {
    ...found,
    captureAllowed: found.sudo !== null && /^sudo capture 0$/m.test(r.stdout),
    agentAllowed: found.sudo !== null && /^sudo agent 0$/m.test(r.stdout),
  };
}

/** The command that installs `program`'s package on this distribution. */
export function installHint(host: Pick<RemoteHost, 'os'>, program: RemoteProgram | 'sudo'): string {
  const pkg: Record<string, { deb: string; rpm: string }> = {
    tcpdump: { deb: 'tcpdump', rpm: 'tcpdump' }, timeout: { deb: 'coreutils', rpm: 'coreutils' }, ip: { deb: 'iproute2', rpm: 'iproute' },
    ss: { deb: 'iproute2', rpm: 'iproute' }, nsenter: { deb: 'util-linux', rpm: 'util-linux' }, lsns: { deb: 'util-linux', rpm: 'util-linux' },
    'iptables-save': { deb: 'iptables', rpm: 'iptables-nft' }, 'ip6tables-save': { deb: 'iptables', rpm: 'iptables-nft' },
    nft: { deb: 'nftables', rpm: 'nftables' }, sysctl: { deb: 'procps', rpm: 'procps-ng' }, cat: { deb: 'coreutils', rpm: 'coreutils' },
    docker: { deb: 'docker.io', rpm: 'docker' }, sudo: { deb: 'sudo', rpm: 'sudo' },
  };
  const p = pkg[program] ?? { deb: program, rpm: program };
  const os = host.os;
  if (os.some((w) => ['debian', 'ubuntu'].includes(w))) return `sudo apt-get install ${p.deb}`;
  if (os.some((w) => ['amzn', 'fedora', 'rhel', 'centos', 'rocky', 'almalinux'].includes(w))) return `sudo dnf install ${p.rpm}`;
  if (os.includes('alpine')) return `sudo apk add ${p.deb}`;
  if (os.some((w) => w.startsWith('suse') || w === 'opensuse')) return `sudo zypper install ${p.rpm}`;
  return `sudo apt-get install ${p.deb} (Debian, Ubuntu) or sudo dnf install ${p.rpm} (Amazon Linux, RHEL)`;
}
