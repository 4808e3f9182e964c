/**
 * Test helpers for the lab: curl from the client, a DNS query from the client, and a
 * tcpdump capture inside a node (the real tool, text output, parsed per packet).
 */
import type { ChildProcess } from 'node:child_process';
import { labExec, spawnInLab, type LabNode } from '../../src/lab/index.js';

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
export const ROOT_SKIP: string | false = IS_ROOT ? false : 'needs root: the lab creates network namespaces (run the tests as root)';

export interface CurlResult {
  /** curl's exit code (6 resolve, 7 connect, 28 timeout, 0 got an HTTP answer). */
  exit: number;
  status: number;
  body: string;
  stderr: string;
}

/** curl from the client node; `extra` are curl options before the URL. */
export async function curl(url: string, extra: string[] = [], timeoutS = 8): Promise<CurlResult> {
  const r = await labExec('client', ['curl', '-sS', '-m', String(timeoutS), '-w', '\n%{http_code}', ...extra, url], { timeoutMs: (timeoutS + 5) * 1000 });
  const cut = r.stdout.lastIndexOf('\n');
  return { exit: r.code, status: Number(r.stdout.slice(cut + 1)) || 0, body: r.stdout.slice(0, Math.max(cut, 0)), stderr: r.stderr };
}

/** One DNS query from the client with dns-packet: the rcode and answers, or the socket error. */
export async function dnsQuery(name: string, server: string): Promise<{ rcode?: string; answers?: string[]; error?: string }> {
  const script = `
    import dgram from 'node:dgram';
    import dnsPacket from 'dns-packet';
    const s = dgram.createSocket('udp4');
    const done = (o) => { process.stdout.write(JSON.stringify(o)); s.close(); process.exit(0); };
    s.on('message', (m) => { const p = dnsPacket.decode(m); done({ rcode: p.rcode, answers: p.answers.map((a) => a.data + '/' + a.ttl) }); });
    s.on('error', (e) => done({ error: e.code }));
    s.connect(53, ${JSON.stringify(server)}, () => s.send(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: ${JSON.stringify(name)} }] })));
    setTimeout(() => done({ error: 'TIMEOUT' }), 1500);
  `;
  const r = await labExec('client', [process.execPath, '--input-type=module', '-e', script], { timeoutMs: 10_000 });
  return JSON.parse(r.stdout || '{}') as { rcode?: string; answers?: string[]; error?: string };
}

export interface CapturedPacket {
  /** `arp` for ARP lines (src/dst/flags empty; `info` has the text), `ip` otherwise. */
  kind: 'ip' | 'arp';
  ifname: string;
  direction: string;
  src: string;
  dst: string;
  flags: string;
  /** TCP sequence range as tcpdump prints it (`1:1449`), or '' when it printed none. */
  seq: string;
  /** The length tcpdump reports at the end of the header line (TCP payload, ARP/ICMP length), or null. */
  length: number | null;
  /** The header line after the direction (e.g. `ICMP host 172.31.5.20 unreachable, length 68`). */
  info: string;
  /** The -A payload lines that followed the header line. */
  payload: string;
}

const HEADER = /^\d\d:\d\d:\d\d\.\d+ (\S+)\s+(In|Out|M|B|P|\S+)\s+IP (\S+) > (\S+?):(?: Flags \[([^\]]*)\](?:, seq (\d+(?::\d+)?))?)?/;
const ARP = /^\d\d:\d\d:\d\d\.\d+ (\S+)\s+(In|Out|M|B|P|\S+)\s+(ARP, .*)$/;
const LENGTH = /length (\d+)(?::|$)/;

/** Parses tcpdump -i any -nn (-A) text output into packets. */
export function parseTcpdump(text: string): CapturedPacket[] {
  const out: CapturedPacket[] = [];
  let cur: CapturedPacket | null = null;
  for (const line of text.split('\n')) {
    const m = HEADER.exec(line);
    const a = m ? null : ARP.exec(line);
    if (m) {
      const len = LENGTH.exec(line);
      cur = { kind: 'ip', ifname: m[1]!, direction: m[2]!, src: m[3]!, dst: m[4]!, flags: m[5] ?? '', seq: m[6] ?? '', length: len ? Number(len[1]) : null,
        info: line.slice(line.indexOf(' IP ') + 4), payload: '' };
      out.push(cur);
    } else if (a) {
      const len = LENGTH.exec(line);
      cur = { kind: 'arp', ifname: a[1]!, direction: a[2]!, src: '', dst: '', flags: '', seq: '', length: len ? Number(len[1]) : null, info: a[3]!, payload: '' };
      out.push(cur);
    } else if (cur && line !== '') {
      cur.payload += line + '\n';
    }
  }
  return out;
}

export interface Capture {
  stop(): Promise<CapturedPacket[]>;
}

/** Starts tcpdump inside a node and resolves once it is listening. Stopped by its PID. */
export async function startCapture(node: LabNode, filter: string, ascii = false): Promise<Capture> {
  const argv = ['tcpdump', '-i', 'any', '-nn', '-s', '1600', '--immediate-mode', '-l', ...(ascii ? ['-A'] : []), filter];
  const child: ChildProcess = spawnInLab(node, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => { stdout += b.toString('latin1'); });
  const closed = new Promise<void>((r) => child.on('close', () => r()));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`tcpdump in ${node} did not start: ${stderr}`)), 10_000);
    child.stderr!.on('data', (b: Buffer) => {
      stderr += b.toString();
      if (stderr.includes('listening on')) { clearTimeout(t); resolve(); }
    });
    child.on('close', () => { clearTimeout(t); reject(new Error(`tcpdump in ${node} exited: ${stderr}`)); });
  });
  return {
    async stop() {
      // Immediate mode: what was seen is already printed; give the pipe a moment.
      await new Promise((r) => setTimeout(r, 150));
      if (child.pid !== undefined) process.kill(child.pid, 'SIGINT');
      await closed;
      return parseTcpdump(stdout);
    },
  };
}

/** A path no health check or other test uses, to find this request in a capture. */
export function probePath(tag: string): string {
  return `/probe-${tag}-${Math.random().toString(16).slice(2, 10)}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
