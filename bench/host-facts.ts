/**
 * How long host facts take in the lab's EC2 host (host + the container behind veth3f2a1b9):
 * ROUNDS start()/stop() pairs with two route lookups at stop, times as median and p90.
 * Not part of `npm run bench` (no peer tool to compare with); run as root:
 *   node --import tsx bench/host-facts.ts [ROUNDS]
 */
import os from 'node:os';
import { labUp, labDown, nsName, LAB, CONTAINER_VETH } from '../src/lab/index.js';
import { createHostFacts } from '../src/host/index.js';

const rounds = Number(process.argv[2] ?? 20);
const own = (await labUp()).alreadyUp !== true;
try {
  const startMs: number[] = [];
  const stopMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const facts = createHostFacts({ netns: nsName('ec2') });
    let t0 = performance.now();
    await facts.start();
    startMs.push(performance.now() - t0);
    const ctr = facts.namespaces().find((n) => n.veth === CONTAINER_VETH)?.label ?? 'none';
    t0 = performance.now();
    const r = await facts.stop([
      { namespace: 'host', to: LAB.albA.vpc, from: LAB.container.address, iif: 'docker0' },
      { namespace: ctr, to: LAB.albA.vpc },
    ]);
    stopMs.push(performance.now() - t0);
    if (r.problems.length > 0 || r.namespaces.length !== 2) throw new Error(`round ${i}: ${r.namespaces.length} namespaces, ${r.problems.join('; ')}`);
  }
  const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))].toFixed(0);
  process.stdout.write(`${rounds} rounds, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(2)}\n`);
  process.stdout.write(`start: median ${q(startMs, 0.5)} ms, p90 ${q(startMs, 0.9)} ms\n`);
  process.stdout.write(`stop:  median ${q(stopMs, 0.5)} ms, p90 ${q(stopMs, 0.9)} ms\n`);
} finally {
  if (own) await labDown();
}
