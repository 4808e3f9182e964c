/**
 * Issue 16: `flowtrace explain` on real outputs, made by the real tools in the lab at test
 * time — the seed's commands (`nslookup seqas.online`, `traceroute -n seqas.online`,
 * `curl -v http://seqas.online/`, and `tcpdump -i any -nn port 80 or port 8080` in ft-ec2
 * while the curl runs; plus `iptables -L -n -v`, `ip -o link`, … there where they help) — for
 * the healthy lab and eight lab faults. Each paste must give the verdict `follow` is held to
 * on the same fault (test/follow/expected.ts: layer, cause id, direction), and say what
 * explain can and cannot prove from text (asserted as such: e.g. a DROP rule's count is a
 * total, not a rise).
 *
 * Also: every other format docs/explain.md lists, made by its real tool in the healthy lab,
 * is recognised as itself and read the same; and tcpdump's text of the request gives the same
 * connection, journey, NAT and exchange as a pcap taken at the same time (item 2).
 *
 * Needs root (network namespaces), as CI runs. The lab is shared: taken through labUp's
 * session, every fault healed. ec2-b drains throughout (oneInstance): the seed has one instance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { injectFault, healFault, LAB } from '../../src/lab/index.js';
import { isRoot, useLab } from '../helpers/lab.js';
import { explain } from '../../src/explain/index.js';
import { analyzeCapture } from '../../src/flow/index.js';
import { parseIfmap } from '../../src/capture/index.js';
import type { FollowResult } from '../../src/follow/index.js';
import { FOLLOW_EXIT } from '../../src/errors.js';
import { LAB_FAULT_VERDICTS } from '../follow/expected.js';
import { CLIENT, EC2, inNode, paste, startTcpdump, type Ran } from './lab-corpus.js';

const SKIP = isRoot ? false : 'needs root (network namespaces): run as root, as CI does';
const URL = `http://${LAB.domain}/`;

/**
 * The seed's setup has one instance; the lab's target group has two. ec2-b is deregistered
 * (draining) for these tests, so that every request goes to ec2 — where the pasted tcpdump
 * and host commands run, as a user runs them on the instance behind the load balancer.
 */
async function oneInstance(): Promise<void> {
  await healFault();
  await injectFault('target-draining');
}

useLab();

type Prompted = Ran & { prompt: string };

/** What the instance's side adds to a paste, per scenario. */
interface Scenario {
  fault: string | null;
  /** Commands run in ft-ec2 after the request (their output pasted after tcpdump's). */
  hostCommands: string[];
  /** Commands run in the container's namespace (pasted as `ip netns exec ft-container …`). */
  containerCommands: string[];
  /** Pasted without prompts: every part recognised by its content alone. */
  noPrompts?: boolean;
}

/** The seed's commands against the lab, a capture in ft-ec2 during the request, the extras; the paste. */
async function seedRun(s: Scenario): Promise<{ text: string; runs: Prompted[] }> {
  const runs: Prompted[] = [];
  runs.push({ prompt: CLIENT, ...(await inNode('client', `nslookup ${LAB.domain}`)) });
  runs.push({ prompt: CLIENT, ...(await inNode('client', `traceroute -n -w 1 -m 8 ${LAB.domain}`)) });
  const capture = await startTcpdump(['-i', 'any', '-nn', 'port', '80', 'or', 'port', '8080']);
  const curl = await inNode('client', `curl -v --connect-timeout 4 ${URL}`);
  const captured = await capture.stop();
  runs.push({ prompt: CLIENT, ...curl });
  runs.push({ prompt: EC2, ...captured });
  for (const c of s.hostCommands) runs.push({ prompt: EC2, ...(await inNode('ec2', c)) });
  for (const c of s.containerCommands) {
    const r = await inNode('container', c);
    runs.push({ prompt: EC2, command: `ip netns exec ${'ft-container'} ${c}`, output: r.output });
  }
  return { text: paste(runs, !s.noPrompts), runs };
}

function line(r: FollowResult): string {
  const v = r.verdict;
  return `${v.firstFailing ?? 'none'} / ${v.causeId ?? 'healthy'} / ${v.direction ?? '-'}: ${v.cause ?? v.headline}`;
}

/** What explain must say on top of follow's layer and cause: what text can and cannot prove. */
const SCENARIOS: Array<Scenario & { check(r: FollowResult): void }> = [
  {
    fault: null, hostCommands: [], containerCommands: [],
    check(r) {
      assert.equal(r.verdict.ok, true, line(r));
      assert.equal(r.server?.matchedBy, 'request-line', 'no trace id was sent: found by its request line');
      assert.deepEqual(r.server!.interfaces.filter((i) => i.packets > 0).map((i) => `${i.iface} ${i.role}`).sort(), ['docker0 bridge', 'ens5 uplink', 'veth3f2a1b9 container']);
      assert.ok(r.explain!.notes.some((n) => /found on the instance by its request line alone/.test(n)), 'says the match rests on the request line (no Host in -nn text)');
    },
  },
  {
    fault: 'dns-nxdomain', hostCommands: [], containerCommands: [],
    check(r) { assert.match(r.verdict.cause!, /NXDOMAIN from 10\.10\.53\.53#53/); },
  },
  {
    fault: 'route-blackhole', hostCommands: [], containerCommands: [],
    check(r) { assert.match(r.verdict.cause!, /stops after hop 2 \(10\.255\.1\.2\)/); },
  },
  {
    fault: 'sg-block', hostCommands: [], containerCommands: [], noPrompts: true,
    check(r) {
      assert.match(r.verdict.cause!, /nothing of the request reached the instance/);
      assert.equal(r.server?.capturedPackets, 0, 'tcpdump\'s own count: 0 packets captured');
    },
  },
  {
    // The RST came from the host: the nat table (no DNAT for 80) and the container's listener say where the request should have gone.
    fault: 'dnat-missing', hostCommands: ['ip -o link', 'ip -o addr', 'iptables -t nat -L -n -v'], containerCommands: ['ss -ltn'],
    check(r) { assert.match(r.verdict.cause!, /answered with RST.*no DNAT rule for port 80.*listens on 0\.0\.0\.0:8080/); },
  },
  {
    // No listener facts pasted: the RST at the end of the path is the evidence; what listens is not claimed.
    fault: 'app-down', hostCommands: [], containerCommands: [],
    check(r) {
      assert.match(r.verdict.cause!, /veth\w+ \(out\) and was answered with RST/);
      assert.match(r.verdict.cause!, /what listens there was not read/);
    },
  },
  {
    // One reading of the counters: the rule that drops this path is named with its total, its rise is not known.
    fault: 'reply-drop-host', hostCommands: ['iptables -L -n -v'], containerCommands: [],
    check(r) {
      assert.match(r.verdict.cause!, /lost between docker0 \(in\) and ens5 \(out\).*DROP rule `-A FORWARD -i docker0 -o ens5 -j DROP`.*has counted \d+ packets? in all \(one reading: whether this request's are among them is not known\)/);
      assert.doesNotMatch(r.verdict.cause!, /during the request/, 'no rise is claimed from one reading');
    },
  },
  {
    fault: 'nacl-ephemeral', hostCommands: [], containerCommands: [], noPrompts: true,
    check(r) { assert.match(r.verdict.cause!, /answer \(SYN-ACK\) left by ens5 \(out\) and never arrived.*network ACL/); },
  },
  {
    // The path beyond ens5 comes from the pasted DNAT rule and docker0's subnet (no packet got further).
    fault: 'host-firewall', hostCommands: ['ip -o link', 'ip -o addr', 'iptables -t nat -L -n -v', 'iptables -L -n -v'], containerCommands: [],
    check(r) {
      assert.match(r.verdict.cause!, /reached ens5 \(in\) but was never seen on docker0.*DROP rule `-A DOCKER-USER -i ens5 .*has counted \d+ packets? in all/);
      assert.equal(r.server?.requests[0]?.journey?.pathFrom, 'host-facts');
    },
  },
];

test('explain reads the seed\'s commands, run in the lab, as follow does: healthy and 8 faults', { skip: SKIP }, async () => {
  const lines: string[] = [];
  await oneInstance();
  for (const s of SCENARIOS) {
    if (s.fault) await injectFault(s.fault);
    let text: string;
    try {
      ({ text } = await seedRun(s));
    } finally {
      if (s.fault) await healFault(s.fault);
    }
    const r = await explain([{ source: `${s.fault ?? 'healthy'}.txt`, text }]);
    lines.push(`${(s.fault ?? 'healthy').padEnd(16)} ${line(r)}`);
    const name = s.fault ?? 'healthy';
    // Every line of the paste is in a part: nothing was left unrecognised.
    assert.deepEqual(r.explain!.unrecognised, [], `${name}: lines not recognised\n${text}`);
    const formats = r.explain!.parts.map((p) => p.format);
    for (const f of ['nslookup', 'traceroute', 'curl -v', 'tcpdump']) assert.ok(formats.includes(f), `${name}: ${f} recognised (${formats.join(', ')})`);
    if (s.fault) {
      const want = LAB_FAULT_VERDICTS[s.fault]!;
      assert.equal(r.verdict.firstFailing, want.layer, `${name}: ${line(r)}`);
      assert.equal(r.verdict.causeId, want.cause, `${name}: ${line(r)}`);
      if (want.direction !== undefined) assert.equal(r.verdict.direction, want.direction, `${name}: ${line(r)}`);
      assert.equal(r.verdict.exitCode, FOLLOW_EXIT[want.layer!], name);
    }
    s.check(r);
  }
  console.log(lines.join('\n'));
});

test('every format docs/explain.md lists, made by its real tool, is recognised and read alike; tcpdump text = a pcap of the same packets', { skip: SKIP }, async () => {
  await oneInstance();
  const d = LAB.domain;
  const client = async (cmd: string): Promise<string> => (await inNode('client', cmd)).output;
  // DNS: four tools, one answer.
  const dnsForms = ['nslookup', 'dig', 'dig +short', 'host'];
  for (const form of dnsForms) {
    const cmd = `${form.replace(' +short', '')} ${form.endsWith('+short') ? '+short ' : ''}${d}`;
    const out = await client(cmd);
    for (const prompted of [true, false]) {
      if (!prompted && form === 'dig +short') continue; // a bare list of addresses is read as dig +short only after its command
      const r = await explain([{ source: 'x', text: prompted ? `${CLIENT} ${cmd}\n${out}` : out }], { url: `http://${d}/` });
      assert.deepEqual(r.explain!.parts.map((p) => p.format), [form], `${cmd} ${prompted ? 'with' : 'without'} its prompt:\n${out}`);
      assert.equal(r.dns.status, 'ok', cmd);
      assert.deepEqual([...r.dns.addresses].sort(), [LAB.albA.public, LAB.albB.public].sort(), cmd);
    }
  }
  // Routes: every tracer and form, reached at hop 4.
  const routeForms: Array<[string, string, string]> = [
    [`traceroute -n ${d}`, 'traceroute', 'udp'], [`traceroute ${d}`, 'traceroute', 'udp'], [`traceroute -I -n ${d}`, 'traceroute', 'icmp'],
    [`traceroute -T -n ${d}`, 'traceroute', 'tcp'], [`tracepath -n ${d}`, 'tracepath', 'udp'],
    [`mtr --report -n -c 1 ${d}`, 'mtr --report', 'icmp'], [`mtr --json -n -c 1 ${d}`, 'mtr --json', 'icmp'],
  ];
  const dnsText = `${CLIENT} nslookup ${d}\n${await client(`nslookup ${d}`)}`;
  for (const [cmd, format, proto] of routeForms) {
    const out = await client(cmd);
    const r = await explain([{ source: 'x', text: `${dnsText}${CLIENT} ${cmd}\n${out}` }]);
    assert.deepEqual(r.explain!.parts.map((p) => p.format), ['nslookup', format], `${cmd}:\n${out}`);
    assert.equal(r.routes.length, 1, cmd);
    assert.equal(r.routes[0]!.proto, proto, cmd);
    assert.equal(r.routes[0]!.status, 'reached', `${cmd}:\n${out}`);
    assert.equal(r.routes[0]!.reachedAtTtl, 4, cmd);
    assert.ok([LAB.albA.public, LAB.albB.public].includes(r.routes[0]!.address), cmd);
    assert.equal(r.verdict.rows.find((x) => x.layer === 'route')!.status, 'pass', cmd);
  }
  // curl -w with the write-out variables named (as curl-format.txt prints them).
  const w = 'time_namelookup: %{time_namelookup}\\ntime_connect: %{time_connect}\\ntime_starttransfer: %{time_starttransfer}\\ntime_total: %{time_total}\\nhttp_code: %{http_code}\\nremote_ip: %{remote_ip}\\nremote_port: %{remote_port}\\nurl_effective: %{url_effective}\\n';
  const cw = await client(`curl -s -o /dev/null -w '${w}' http://${d}/`);
  const rw = await explain([{ source: 'x', text: cw }]);
  assert.deepEqual(rw.explain!.parts.map((p) => p.format), ['curl -w'], cw);
  assert.equal(rw.requests[0]!.httpStatus, 200);
  assert.ok(rw.requests[0]!.phases.totalMs! > 0);
  assert.equal(rw.url, `http://${d}/`);
  // The instance: ip in every form, iptables -L (filter, nat), iptables-save, iptables -S, ss, sysctl, ip route, ip neigh.
  const ec2 = async (cmd: string): Promise<string> => (await inNode('ec2', cmd)).output;
  const hostForms: Array<[string, string]> = [
    ['ip -o link', 'ip link'], ['ip link', 'ip link'], ['ip -d link', 'ip link'], ['ip addr', 'ip addr'], ['ip -o addr', 'ip addr'],
    ['ip -j addr', 'ip addr'], ['ip -br addr', 'ip addr'], ['ip route', 'ip route'], ['ip neigh', 'ip neigh'], ['iptables -L -n -v', 'iptables -L'],
    ['iptables -t nat -L -n -v', 'iptables -L'], ['iptables-save -c', 'iptables-save'], ['iptables -S', 'iptables -S'], ['ss -ltn', 'ss'],
    ['sysctl net.ipv4.ip_forward net.ipv4.conf.all.rp_filter', 'sysctl'],
  ];
  for (const [cmd, format] of hostForms) {
    const out = await ec2(cmd);
    for (const prompted of [true, false]) {
      if (out.trim() === '') continue;
      const r = await explain([{ source: 'x', text: prompted ? `${EC2} ${cmd}\n${out}` : out }], { url: `http://${d}/` });
      assert.deepEqual(r.explain!.parts.map((p) => p.format), [format], `${cmd} ${prompted ? 'with' : 'without'} its prompt:\n${out}`);
      assert.deepEqual(r.explain!.unrecognised, [], cmd);
    }
  }

  // tcpdump's text of a request and a pcap of the same packets, taken at the same time.
  const dir = mkdtempSync(path.join(tmpdir(), 'ftt-explain-'));
  try {
    const pcap = path.join(dir, 'cap.pcap');
    const forms: string[][] = [[], ['-v'], ['-e'], ['-tttt'], ['-A']];
    const texts = await Promise.all(forms.map((f) => startTcpdump(['-i', 'any', '-nn', ...f, 'port', '80', 'or', 'port', '8080'])));
    const file = await startTcpdump(['-i', 'any', '-nn', '-s', '1600', '-Z', 'root', '-w', pcap, 'port', '80', 'or', 'port', '8080']);
    const curl = await inNode('client', `curl -v ${URL}`);
    const outputs = await Promise.all(texts.map((t) => t.stop()));
    await file.stop();
    const ifmap = parseIfmap(await ec2('ip -o link'));
    const fromPcap = (await analyzeCapture(pcap, { ifmap })).analysis;
    const pcapRequest = fromPcap.exchanges.find((e) => e.request?.xForwardedFor === LAB.client)!;
    assert.ok(pcapRequest, 'the pcap has the request');
    const connection = (a: typeof fromPcap, id: number): unknown => {
      const c = a.connections.find((x) => x.id === id)!;
      return { client: c.client, server: c.server, inside: c.serverInside, state: c.state, milestones: c.milestones.map((m) => `${m.kind}/${m.from}×${m.transmissions}@${m.hops.map((h) => `${h.interface}:${h.direction}`).join(',')}`), nat: c.nat };
    };
    for (const [k, out] of outputs.entries()) {
      const r = await explain([{ source: 'x', text: `${CLIENT} ${curl.command}\n${curl.output}${EC2} ${out.command}\n${out.output}` }]);
      const a = r.server!.analysis!;
      const sr = r.server!.requests[0]!;
      assert.equal(r.verdict.ok, true, `tcpdump ${forms[k]!.join(' ')}: ${line(r)}`);
      // The request's connection, as the pcap has it.
      const textConn = a.connections.find((c) => c.client.port === pcapRequest.client.port)!;
      assert.ok(textConn, `tcpdump ${forms[k]!.join(' ')}: the request's connection is in the text`);
      assert.deepEqual(connection(a, textConn.id), connection(fromPcap, pcapRequest.connectionId), `tcpdump ${forms[k]!.join(' ')}`);
      const ex = a.exchanges.find((e) => e.connectionId === textConn.id)!;
      assert.deepEqual([ex.request?.method, ex.request?.target, ex.response?.status, ex.request?.hops.map((h) => h.interface)], [pcapRequest.request!.method, pcapRequest.request!.target, pcapRequest.response!.status, pcapRequest.request!.hops.map((h) => h.interface)]);
      // With -v and -A the head is in the text: Host, X-Forwarded-For and the load balancer's trace id, as in the pcap.
      if (forms[k]!.includes('-v') || forms[k]!.includes('-A')) {
        assert.deepEqual([ex.request!.host, ex.request!.xForwardedFor, ex.request!.traceId?.root], [pcapRequest.request!.host, pcapRequest.request!.xForwardedFor, pcapRequest.request!.traceId?.root]);
        assert.equal(sr.matchedBy, 'request-line');
        assert.ok(r.explain!.notes.some((n) => n.includes(`trace id Root=${pcapRequest.request!.traceId!.root}`)), 'the load balancer\'s trace id is said');
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
