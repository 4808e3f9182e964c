/**
 * Regenerates the recorded DNS answers in this folder from a real dnsmasq on loopback:
 *   node --import tsx test/data/dns/record.ts
 * dnsmasq listens on 127.0.0.77:15353 with the records below; every query is built by
 * flowtrace (EDNS0, UDP payload 1232, ID 0x1234) and sent over UDP (and TCP for big.test).
 * Each answer is saved raw as <name>-<type>-<udp|tcp>.bin. dnsmasq is ended by its PID.
 * fail.example is forwarded to a tiny upstream on 127.0.0.78:15354 that answers SERVFAIL to
 * everything, so the recorded SERVFAIL is the one dnsmasq relays.
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildQuery, socketTransport } from '../../../src/dns/index.js';
import type { RecordType } from 'dns-packet';

const here = path.dirname(fileURLToPath(import.meta.url));
const server = { address: '127.0.0.77', port: 15353 };
const bigRecords = Array.from({ length: 60 }, (_, i) => `--host-record=big.test,10.99.${Math.floor(i / 250)}.${(i % 250) + 1}`);
const upstream = dgram.createSocket('udp4');
upstream.on('message', (msg, rinfo) => {
  const q = dnsPacket.decode(msg);
  upstream.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | 2, questions: q.questions }), rinfo.port, rinfo.address);
});
await new Promise<void>((r) => upstream.bind(15354, '127.0.0.78', r));
const dnsmasq = spawn('dnsmasq', [
  '--conf-file=/dev/null', '--no-resolv', '--no-hosts', '--keep-in-foreground', '--bind-interfaces',
  `--listen-address=${server.address}`, `--port=${server.port}`, '--edns-packet-max=512', '--local=/test/',
  '--host-record=app.test,10.20.1.10', '--host-record=app.test,10.20.2.10',
  '--cname=www.test,my-alb-1234567890.us-east-1.elb.amazonaws.com',
  '--host-record=my-alb-1234567890.us-east-1.elb.amazonaws.com,10.20.1.10',
  '--host-record=my-alb-1234567890.us-east-1.elb.amazonaws.com,10.20.2.10',
  '--server=/fail.example/127.0.0.78#15354',
  ...bigRecords,
], { stdio: 'ignore' });

const cases: Array<[string, RecordType, 'udp' | 'tcp']> = [
  ['app.test', 'A', 'udp'], ['app.test', 'AAAA', 'udp'],
  ['www.test', 'A', 'udp'], ['www.test', 'AAAA', 'udp'],
  ['nope.test', 'A', 'udp'], ['nope.test', 'AAAA', 'udp'],
  ['other.example', 'A', 'udp'],
  ['www.fail.example', 'A', 'udp'],
  ['big.test', 'A', 'udp'], ['big.test', 'A', 'tcp'],
];

try {
  await new Promise((r) => setTimeout(r, 300));
  for (const [name, type, proto] of cases) {
    const query = buildQuery(name, type, 0x1234);
    const answer = await socketTransport[proto](server, query.bytes, 3000, () => true);
    const file = `${name}-${type}-${proto}.bin`;
    writeFileSync(path.join(here, file), answer);
    console.log(`${file}: ${answer.length} bytes`);
  }
} finally {
  dnsmasq.kill('SIGTERM');
  upstream.close();
}
