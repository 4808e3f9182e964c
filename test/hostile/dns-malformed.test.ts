/**
 * Broken DNS answers (issue 13): an answer record cut short, or an answer name that is a
 * compression pointer to itself, gave `error[DNS_NODATA] … the name exists but has no record
 * of this type` — dns-packet reads leniently (`1.2.undefined.undefined`). Now the message is
 * walked strictly first (src/dns/wire.ts): `DNS_MALFORMED`, what was wrong, exit 6.
 *
 * A UDP server on 127.0.0.1 answers each A query with a correct reply (made by dns-packet,
 * which does not compress names) that a case then breaks byte by byte. The name is x.test
 * (8 bytes on the wire; question: 12 + 8 + 4 = 24 bytes; the first answer record starts at
 * byte 24: its name, type, class, TTL, RDLENGTH at 40, RDATA at 42; a second one at 46).
 */
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import type { Answer } from 'dns-packet';
import { after, before, describe, it } from 'node:test';
import { resolve } from '../../src/dns/index.js';
import { malformation } from '../../src/dns/wire.js';
import { runCli } from './inputs.js';

const ANSWER = 24;
const NAME_BYTES = 8;
const RDLENGTH = ANSWER + NAME_BYTES + 8;
const SECOND_ANSWER = RDLENGTH + 2 + 4;

interface Case {
  name: string;
  answers: Answer[];
  /** Breaks the correct reply (a copy). */
  breakIt: (b: Buffer) => Buffer;
  /** What the diagnosis must say. */
  says: RegExp;
}

const A: Answer[] = [{ type: 'A', name: 'x.test', ttl: 60, data: '10.0.0.7' }];
const CASES: Case[] = [
  { name: 'an A record cut short (2 of its 4 address bytes)', answers: A, breakIt: (b) => b.subarray(0, b.length - 2), says: /answer 1 \(A at byte 24\) is cut short: RDATA needs 4 bytes, 2 are left/ },
  { name: 'an answer name that is a compression pointer to itself', answers: A, breakIt: (b) => { b[ANSWER] = 0xc0; b[ANSWER + 1] = ANSWER; return b; }, says: /answer 1: the name is a compression pointer to itself \(byte 24\)/ },
  { name: 'an answer name pointing forward (a loop through two pointers)', answers: [...A, { type: 'A', name: 'x.test', ttl: 60, data: '10.0.0.8' }], breakIt: (b) => { b[ANSWER] = 0xc0; b[ANSWER + 1] = SECOND_ANSWER; b[SECOND_ANSWER] = 0xc0; b[SECOND_ANSWER + 1] = ANSWER; return b; }, says: /answer 1: a compression pointer at byte 24 points forward, to byte 46 \(a loop\)/ },
  { name: 'more answers counted than the message holds', answers: A, breakIt: (b) => { b.writeUInt16BE(3, 6); return b; }, says: /the header says 3 answer record\(s\), the message ends after 1/ },
  { name: 'an A record whose RDLENGTH is 2', answers: A, breakIt: (b) => { b.writeUInt16BE(2, RDLENGTH); return b; }, says: /answer 1 \(A at byte 24\): an A record with RDLENGTH 2 \(an IPv4 address is 4 bytes\)/ },
  { name: 'an RDLENGTH running past the message', answers: A, breakIt: (b) => { b.writeUInt16BE(300, RDLENGTH); return b; }, says: /answer 1 \(A at byte 24\) is cut short: RDATA needs 300 bytes, 4 are left/ },
  { name: 'a CNAME whose target runs past its RDLENGTH', answers: [{ type: 'CNAME', name: 'x.test', ttl: 60, data: 'lb.example.com' }], breakIt: (b) => { b.writeUInt16BE(5, RDLENGTH); return b; }, says: /answer 1 \(CNAME at byte 24\), target name: a label of 7 bytes at byte 45 runs past the end of its RDATA \(byte 47\)/ },
  // A length byte of 64–127 is no label: the 0x40 type bit is set (RFC 6891 §5 retired it).
  { name: 'a label longer than 63 bytes, i.e. the reserved label type 0x40', answers: A, breakIt: (b) => { b[ANSWER] = 0x41; return b; }, says: /answer 1: label type 0x40 at byte 24 is reserved/ },
  { name: 'a message shorter than a header (the ID right, 6 bytes)', answers: A, breakIt: (b) => b.subarray(0, 6), says: /the message is 6 bytes, shorter than a DNS header \(12\)/ },
];

let server: dgram.Socket;
let port = 0;
let current: Case = CASES[0];

before(async () => {
  server = dgram.createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const reply = dnsPacket.encode({
      type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions, answers: q.questions![0].type === 'A' ? current.answers : [],
    });
    server.send(q.questions![0].type === 'A' ? current.breakIt(Buffer.from(reply)) : reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  port = server.address().port;
});
after(() => server.close());

describe('a malformed DNS answer is DNS_MALFORMED, saying what was wrong — not NODATA', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      current = c;
      const r = await resolve('x.test', { server: `127.0.0.1:${port}`, types: ['A', 'AAAA'], timeoutMs: 2000, retries: 0 });
      assert.equal(r.status, 'error', JSON.stringify(r.error));
      assert.equal(r.error?.code, 'DNS_MALFORMED');
      assert.match(r.error!.message, new RegExp(`^malformed answer for x\\.test A from 127\\.0\\.0\\.1#${port} \\(udp, \\d+ bytes\\): `));
      assert.match(r.error!.message, c.says);
      assert.equal(r.failureSource, 'resolver');
      assert.deepEqual(r.addresses, []);
    });
  }

  it('the CLI: one error line and a hint, exit 6, no stack trace', async () => {
    current = CASES[0];
    const run = runCli(['dns', 'x.test', '--server', `127.0.0.1:${port}`, '--type', 'A']);
    const { code } = await run.exited;
    assert.equal(code, 6, run.stderr);
    assert.match(run.stderr, /^error\[DNS_MALFORMED\]: malformed answer for x\.test A from 127\.0\.0\.1#\d+ \(udp, 44 bytes\): answer 1 \(A at byte 24\) is cut short: RDATA needs 4 bytes, 2 are left\nhint: the resolver \(or a DNS proxy or middlebox on the way\) sent a broken message: try --tcp or another --server, and compare with dig\n$/);
  });

  it('dns --timeout 1e12 (and +time=): a usage error naming the maximum, not a false DNS_TIMEOUT; nothing sent', async () => {
    let queries = 0;
    server.on('message', () => { queries++; });
    for (const args of [['--timeout', '1e12'], ['+time=1000000000000']]) {
      const run = runCli(['dns', 'x.test', '--server', `127.0.0.1:${port}`, ...args]);
      const { code } = await run.exited;
      assert.equal(code, 2, run.stderr);
      assert.equal(run.stderr, `error[USAGE]: --timeout ${args[0] === '--timeout' ? '1e12' : '1000000000000'} is more than the maximum, 3600 seconds (an hour)\nhint: give at most --timeout 3600 (seconds per try)\n`);
    }
    assert.equal(queries, 0);
  });

  it('the checker accepts what real servers send: every record type dns-packet writes, compressed names', () => {
    const full = dnsPacket.encode({
      type: 'response', id: 7, flags: 0x8180, questions: [{ type: 'A', name: 'www.example.com', class: 'IN' }],
      answers: [
        { type: 'CNAME', name: 'www.example.com', ttl: 60, data: 'lb.example.com' },
        { type: 'A', name: 'lb.example.com', ttl: 60, data: '192.0.2.1' },
        { type: 'AAAA', name: 'lb.example.com', ttl: 60, data: '2001:db8::1' },
        { type: 'MX', name: 'example.com', ttl: 60, data: { preference: 10, exchange: 'mail.example.com' } },
        { type: 'SRV', name: '_h._tcp.example.com', ttl: 60, data: { priority: 1, weight: 2, port: 80, target: 'lb.example.com' } },
        { type: 'TXT', name: 'example.com', ttl: 60, data: ['v=spf1 -all'] },
        { type: 'PTR', name: '1.2.0.192.in-addr.arpa', ttl: 60, data: 'lb.example.com' },
      ],
      authorities: [{ type: 'SOA', name: 'example.com', ttl: 60, data: { mname: 'ns.example.com', rname: 'h.example.com', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 } }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
    });
    assert.equal(malformation(full), null);
  });
});
