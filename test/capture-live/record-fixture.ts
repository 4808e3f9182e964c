/**
 * Regenerates test/data/capture-live/ec2-any.pcap and ec2-any.links.json: real tcpdump
 * (`-i any -w - -U --immediate-mode -s 1600`, exactly the engine's argv) in the miniature
 * EC2 host of ./host.ts while curl sends one request with a trace id and an Authorization
 * header through Docker's DNAT; plus `ip -j -d link show` of that namespace.
 * Run as root: node --import tsx test/capture-live/record-fixture.ts
 */
import fs from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { buildMiniHost } from './host.js';
import { tcpdumpArgv } from '../../src/capture/live/index.js';

const out = new URL('../data/capture-live/', import.meta.url);
const host = await buildMiniHost('fttcaprec-');
try {
  const argv = tcpdumpArgv({ interface: 'any', filter: '(port 80 or port 8080)', snaplenBytes: 1600, bufferKiB: 4096, netns: host.ec2 });
  const td = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  td.stdout.on('data', (c: Buffer) => chunks.push(c));
  let err = '';
  td.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  while (!err.includes('listening on')) await new Promise((r) => setTimeout(r, 20));
  host.request('1-67891233-abcdef012345678912345678', ['Authorization: Bearer fixture-secret']);
  await new Promise((r) => setTimeout(r, 300));
  td.kill('SIGINT');
  await new Promise((r) => td.on('close', r));
  fs.writeFileSync(new URL('ec2-any.pcap', out), Buffer.concat(chunks));
  const links = spawnSync('ip', ['-n', host.ec2, '-j', '-d', 'link', 'show'], { encoding: 'utf8' }).stdout;
  fs.writeFileSync(new URL('ec2-any.links.json', out), JSON.stringify(JSON.parse(links), null, 1) + '\n');
  process.stdout.write(err);
} finally {
  host.destroy();
}
