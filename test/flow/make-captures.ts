/**
 * Regenerates the REAL captures in test/data/flow/: real tcpdump (`-i any`, SLL2) in the
 * ec2 namespace of netns-lab.ts while real curl in the "ALB node" namespace talks to a real
 * node:http server in the container namespace through Docker's DNAT.
 *
 *   node --import tsx test/flow/make-captures.ts [SCENARIO…]      (root)
 *
 * Writes <scenario>.pcap and <scenario>.ifmap (`ip -o link` of the ec2 namespace) per
 * scenario. Then refresh the goldens: UPDATE_GOLDEN=1 node --import tsx --test test/flow/golden.test.ts
 */
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADDR, Ec2Lab, isRoot, removeStaleNamespaces, type Ec2LabOptions } from './netns-lab.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const DATA_DIR = path.resolve(here, '..', 'data', 'flow');

/** Fixed trace ids so the goldens are stable in what they select. */
export const TRACE = {
  first: 'Root=1-6741f0a0-0123456789abcdef01234567',
  second: 'Root=1-6741f0a1-89abcdef0123456789abcdef;Self=1-6741f0a1-00000000000000000000aaaa',
} as const;

export interface Scenario {
  description: string;
  lab: Ec2LabOptions;
  /** The client's work, run in the alb namespace. */
  drive(lab: Ec2Lab): void;
}

const url = (p: string): string => `http://${ADDR.ens5}${p}`;

export const SCENARIOS: Record<string, Scenario> = {
  'seed-keepalive': {
    description: 'two requests on one keep-alive connection (curl --next), both 200; the second body is chunked',
    lab: {},
    drive(lab) {
      lab.exec('alb', ['curl', '-sS', '--http1.1', '-o', '/dev/null', '-m', '5',
        '-H', `X-Amzn-Trace-Id: ${TRACE.first}`, '-H', 'X-Forwarded-For: 203.0.113.7', url('/'),
        '--next', '-sS', '--http1.1', '-o', '/dev/null', '-m', '5',
        '-H', `X-Amzn-Trace-Id: ${TRACE.second}`, '-H', 'X-Forwarded-For: 198.51.100.23', url('/chunked')]);
    },
  },
  'app-down': {
    description: 'the container app is not running: SYN ens5 → docker0 → veth, RST back the same way',
    lab: { app: false },
    drive(lab) {
      lab.run('alb', ['curl', '-sS', '-m', '3', '-H', `X-Amzn-Trace-Id: ${TRACE.first}`, url('/')]);
    },
  },
  'dnat-missing': {
    description: "Docker's DNAT rule is missing: SYN in on ens5, RST out on ens5 from the host, nothing on docker0",
    lab: { dnat: false },
    drive(lab) {
      lab.run('alb', ['curl', '-sS', '-m', '3', '-H', `X-Amzn-Trace-Id: ${TRACE.first}`, url('/')]);
    },
  },
};

/** Builds the namespaces, captures one scenario into FILE (+ FILE's ifmap), tears down. */
export async function captureScenario(name: string, pcapFile: string): Promise<{ ifmap: string }> {
  const scenario = SCENARIOS[name];
  if (!scenario) throw new Error(`unknown scenario ${name}`);
  removeStaleNamespaces();
  const lab = new Ec2Lab(`${process.pid}-${name.slice(0, 3)}`);
  try {
    await lab.up(scenario.lab);
    const capture = await lab.startCapture(pcapFile, ['tcp']);
    scenario.drive(lab);
    await sleep(300); // let the last FIN/ACKs through
    await capture.stop();
    return { ifmap: lab.ifmapText() };
  } finally {
    await lab.down();
  }
}

async function main(): Promise<void> {
  if (!isRoot()) { console.error('make-captures: needs root (network namespaces, tcpdump)'); process.exit(4); }
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(SCENARIOS);
  for (const name of names) {
    const pcap = path.join(DATA_DIR, `${name}.pcap`);
    const { ifmap } = await captureScenario(name, pcap);
    writeFileSync(path.join(DATA_DIR, `${name}.ifmap`), ifmap);
    console.log(`wrote ${pcap}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => { console.error(err instanceof Error ? err.message : err); process.exit(1); });
}
