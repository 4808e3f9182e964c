/**
 * Hand-built evidence for the healthy walk and for each lab fault, written from the table
 * "What each fault looks like (observed)" in ../shared/notes/lab-facts.md and the lab's
 * addressing (client 10.10.1.2 → isp → backbone → awsedge → ALB nodes 10.77.1.10 / 10.77.2.10;
 * VPC legs 172.31.0.10 / 172.31.16.10; ens5 172.31.5.20; container 172.17.0.2:8080).
 *
 * These drive the verdict tests and the golden files in test/data/follow/ (regenerate with
 * UPDATE_GOLDEN=1), and the report tests when the lab is not available.
 */
import { FOLLOW_SCHEMA_VERSION } from '../../src/follow/types.js';
import type {
  FollowEvidence, FollowResult, HopEvidence, InterfaceSighting, PacketObservation, RequestEvidence, RouteEvidence, ServerEvidence,
} from '../../src/follow/types.js';
import { decideVerdict } from '../../src/follow/verdict.js';

const ALB = ['10.77.1.10', '10.77.2.10'];
const NODES = ['alb-a', 'alb-b'];
const ROUTERS = ['10.10.1.1', '10.255.1.2', '10.255.2.2'];
const TRACE_IDS = ['1-6751a2b3-0123456789abcdef01234567', '1-6751a2b3-89abcdef0123456789abcdef'];

function hop(ttl: number, address: string | null, rtt: number, extra: Partial<HopEvidence> = {}): HopEvidence {
  return {
    ttl,
    responders: address ? [{ address, rttMs: [rtt, rtt + 0.02, rtt + 0.01] }] : [],
    sent: 3,
    lossPct: address ? 0 : 100,
    flag: null,
    isDestination: false,
    ...extra,
  };
}

function goodRoute(address: string): RouteEvidence {
  return {
    address, proto: 'tcp', port: 80, status: 'reached', reachedAtTtl: 4,
    hops: [hop(1, ROUTERS[0]!, 0.05), hop(2, ROUTERS[1]!, 0.08), hop(3, ROUTERS[2]!, 0.11), hop(4, address, 0.14, { isDestination: true })],
    explanation: null, elapsedMs: 31.2, error: null,
  };
}

function request(i: number, fields: Partial<RequestEvidence>): RequestEvidence {
  return {
    address: ALB[i]!, port: 80, node: NODES[i]!, traceId: TRACE_IDS[i]!, localAddress: `10.10.1.2:${40100 + i}`,
    status: 'ok', httpStatus: 200, reason: 'OK', serverHeader: null,
    phases: { dnsMs: null, connectMs: 0.31, tlsMs: null, firstByteMs: 2.4, downloadMs: 0.12, totalMs: 2.9 },
    error: null, bodyPreview: '{"peer":"172.31.0.10","xForwardedFor":"10.10.1.2","path":"/"}',
    ...fields,
  };
}

function sighting(iface: string, role: InterfaceSighting['role'], f: Partial<InterfaceSighting>): InterfaceSighting {
  return { iface, role, packets: 0, firstMs: null, syn: 0, synRetransmits: 0, synAck: 0, rstBack: 0, request: false, responseStatus: null, link: 'up', ...f };
}

const VETH = 'veth3f2a1b9';
const ENS5 = '172.31.5.20:80';
const CTR = '172.17.0.2:8080';
const ALB_LEG = '172.31.0.10:41870';
const ALB_LEG_NAT = '172.31.0.10:41870';

/** The ladder of one healthy request: each packet on ens5, docker0 and the veth. */
function healthyLadder(status = 200): PacketObservation[] {
  const steps: Array<[string, 'request' | 'response']> = [
    ['SYN', 'request'], ['SYN-ACK', 'response'], ['ACK', 'request'], ['GET /', 'request'], ['ACK', 'response'],
    [`HTTP ${status}`, 'response'], ['ACK', 'request'], ['FIN', 'request'], ['FIN', 'response'], ['ACK', 'request'],
  ];
  const out: PacketObservation[] = [];
  let t = 0;
  steps.forEach(([label, way], id) => {
    const order = way === 'request' ? [['ens5', 'in'], ['docker0', 'out'], [VETH, 'out']] : [[VETH, 'in'], ['docker0', 'in'], ['ens5', 'out']];
    order.forEach(([iface, dir], k) => {
      const inside = iface !== 'ens5';
      const client = inside ? ALB_LEG_NAT : ALB_LEG;
      const server = inside ? CTR : ENS5;
      out.push({
        packetId: id + 1, tMs: Number((t + k * 0.011).toFixed(3)), iface: iface!, direction: dir as 'in' | 'out',
        src: way === 'request' ? client : server, dst: way === 'request' ? server : client, label, way,
      });
    });
    t += label.startsWith('HTTP') ? 1.3 : 0.08;
  });
  return out;
}

function healthyServer(status = 200): ServerEvidence {
  return {
    target: 'netns:ec2', status: 'ok', error: null, capturedPackets: 60, kernelDrops: 0,
    filter: 'tcp port 80 or tcp port 8080 (following NAT: 80 → 172.17.0.2:8080)',
    matchedBy: 'trace-id', traceId: TRACE_IDS[0]!,
    interfaces: [
      sighting('ens5', 'ens5', { packets: 20, firstMs: 0, syn: 2, synAck: 2, request: true, responseStatus: status }),
      sighting('docker0', 'docker0', { packets: 20, firstMs: 0.011, syn: 2, synAck: 2, request: true, responseStatus: status }),
      sighting(VETH, 'veth', { packets: 20, firstMs: 0.022, syn: 2, synAck: 2, request: true, responseStatus: status }),
    ],
    nat: [{ from: ENS5, to: CTR, between: 'ens5 → docker0' }],
    packets: healthyLadder(status),
    path: [
      `request:  172.31.0.10 → ens5 (+0.000 ms) → docker0 (+0.011 ms) → ${VETH} (+0.022 ms) → ${CTR}`,
      `response: ${CTR} → ${VETH} → docker0 → ens5 → 172.31.0.10: HTTP ${status} (1.3 ms in the container)`,
    ],
    anomalies: [],
    appTimeMs: 1.3,
  };
}

function base(): FollowEvidence {
  return {
    schemaVersion: FOLLOW_SCHEMA_VERSION,
    tool: { name: 'flowtrace', version: '0.1.0' },
    url: 'http://seqas.online/', scheme: 'http', host: 'seqas.online', port: 80, path: '/',
    startedAt: '2026-11-23T20:00:00.000Z', durationMs: 412.5,
    options: { server: 'netns:ec2', once: false, protos: ['tcp'] },
    dns: {
      status: 'ok', server: '10.10.53.53#53 (udp)', addresses: [...ALB],
      answers: ALB.map((a) => ({ name: 'seqas.online', type: 'A', ttl: 60, data: a })), rcode: 'NOERROR', elapsedMs: 0.8, error: null,
    },
    routes: ALB.map(goodRoute),
    requests: [request(0, {}), request(1, {})],
    server: healthyServer(),
  };
}

function dnsFailure(status: FollowEvidence['dns']['status'], rcode: string | null, error: string): (e: FollowEvidence) => void {
  return (e) => {
    e.dns = { ...e.dns, status, addresses: [], answers: [], rcode, error, elapsedMs: status === 'timeout' ? 5000 : 0.7 };
    e.routes = []; e.requests = []; e.server = { ...e.server!, capturedPackets: 0, interfaces: [], packets: [], path: [], nat: [], matchedBy: null, traceId: null, appTimeMs: null };
  };
}

function failedRequests(code: string, phase: string, message: string, ms: number) {
  return (e: FollowEvidence): void => {
    e.requests = e.requests.map((q) => ({ ...q, status: 'error', httpStatus: null, reason: null, bodyPreview: null, phases: { ...q.phases, connectMs: null, firstByteMs: null, downloadMs: null, totalMs: ms }, error: { code, phase, message } }));
  };
}

function nothingOnServer(e: FollowEvidence): void {
  e.server = { ...e.server!, capturedPackets: 0, interfaces: [sighting('ens5', 'ens5', {}), sighting('docker0', 'docker0', {}), sighting(VETH, 'veth', {})], packets: [], path: [], nat: [], matchedBy: null, traceId: null, appTimeMs: null };
}

function lbAnswers(status: number, reason: string, totalMs: number) {
  return (e: FollowEvidence): void => {
    e.requests = e.requests.map((q) => ({ ...q, httpStatus: status, reason, serverHeader: 'awselb/2.0', bodyPreview: `<html><head><title>${status} ${reason}</title></head>`, phases: { ...q.phases, firstByteMs: totalMs - 0.5, totalMs } }));
  };
}

function synLadder(ifaces: Array<[string, 'in' | 'out']>, back: Array<[string, string]>, retransmits: number): PacketObservation[] {
  const out: PacketObservation[] = [];
  let id = 0;
  for (let i = 0; i <= retransmits; i++) {
    id++;
    const t = i === 0 ? 0 : 1000 * 2 ** (i - 1);
    ifaces.forEach(([iface, dir], k) => out.push({ packetId: id, tMs: t + k * 0.011, iface, direction: dir, src: ALB_LEG, dst: iface === 'ens5' ? ENS5 : CTR, label: 'SYN', way: 'request' }));
    back.forEach(([iface, label], k) => out.push({ packetId: id + 100, tMs: t + 0.05 + k * 0.011, iface, direction: iface === 'ens5' ? 'out' : 'in', src: iface === 'ens5' ? ENS5 : CTR, dst: ALB_LEG, label, way: 'response' }));
  }
  return out;
}

function server(e: FollowEvidence, interfaces: InterfaceSighting[], packets: PacketObservation[], anomalies: string[], nat = true): void {
  e.server = {
    ...e.server!, matchedBy: 'connection', traceId: null, interfaces, packets, anomalies, appTimeMs: null,
    capturedPackets: interfaces.reduce((n, i) => n + i.packets, 0),
    nat: nat ? e.server!.nat : [],
    path: [`request: 172.31.0.10 → ${interfaces.filter((i) => i.packets > 0).map((i) => i.iface).join(' → ')} ✗`],
  };
}

export interface Scenario {
  /** The lab fault it models (null: healthy). */
  fault: string | null;
  layer: string | null;
  causeId: string | null;
  exitCode: number;
  build(e: FollowEvidence): void;
}

export const SCENARIOS: Record<string, Scenario> = {
  healthy: { fault: null, layer: null, causeId: null, exitCode: 0, build: () => {} },
  'dns-nxdomain': { fault: 'dns-nxdomain', layer: 'dns', causeId: 'dns-nxdomain', exitCode: 10, build: dnsFailure('nxdomain', 'NXDOMAIN', 'seqas.online: NXDOMAIN') },
  'dns-down': { fault: 'dns-down', layer: 'dns', causeId: 'dns-server-down', exitCode: 10, build: dnsFailure('unreachable', null, 'ICMP port unreachable from 10.10.53.53') },
  'dns-drop': { fault: 'dns-drop', layer: 'dns', causeId: 'dns-timeout', exitCode: 10, build: dnsFailure('timeout', null, 'no answer after 2 tries') },
  'route-blackhole': {
    fault: 'route-blackhole', layer: 'route', causeId: 'route-blackhole', exitCode: 11,
    build: (e) => {
      e.routes = ALB.map((a) => ({ ...goodRoute(a), status: 'not-reached', reachedAtTtl: null, hops: [hop(1, ROUTERS[0]!, 0.05), hop(2, ROUTERS[1]!, 0.08), hop(3, null, 0), hop(4, null, 0), hop(5, null, 0)], explanation: 'the path stops after hop 2' }));
      failedRequests('TIMEOUT', 'connect', 'connect timed out after 3000 ms', 3000)(e);
      nothingOnServer(e);
    },
  },
  'route-reject': {
    fault: 'route-reject', layer: 'route', causeId: 'route-reject', exitCode: 11,
    build: (e) => {
      e.routes = ALB.map((a) => ({ ...goodRoute(a), status: 'not-reached', reachedAtTtl: null, hops: [hop(1, ROUTERS[0]!, 0.05), hop(2, ROUTERS[1]!, 0.08, { flag: '!X' })], explanation: '!X at hop 2: communication administratively prohibited' }));
      failedRequests('EHOSTUNREACH', 'connect', 'connect EHOSTUNREACH', 0.4)(e);
      nothingOnServer(e);
    },
  },
  'no-route': {
    fault: 'no-route', layer: 'route', causeId: 'no-route', exitCode: 11,
    build: (e) => {
      e.routes = ALB.map((a) => ({ ...goodRoute(a), status: 'not-reached', reachedAtTtl: null, hops: [hop(1, ROUTERS[0]!, 0.05), hop(2, ROUTERS[1]!, 0.08, { flag: '!N' })], explanation: '!N at hop 2: network unreachable' }));
      failedRequests('ENETUNREACH', 'connect', 'connect ENETUNREACH', 0.4)(e);
      nothingOnServer(e);
    },
  },
  'icmp-ratelimit': {
    fault: 'icmp-ratelimit', layer: null, causeId: null, exitCode: 0,
    build: (e) => {
      e.routes = ALB.map((a) => ({ ...goodRoute(a), hops: [hop(1, ROUTERS[0]!, 0.05), hop(2, null, 0), hop(3, null, 0), hop(4, a, 0.14, { isDestination: true })], explanation: 'hops 2–3 do not answer traceroute (filtered or rate-limited); the path goes on' }));
    },
  },
  'sg-block': {
    fault: 'sg-block', layer: 'instance', causeId: 'sg-block', exitCode: 13,
    build: (e) => { lbAnswers(504, 'Gateway Time-out', 3004)(e); nothingOnServer(e); },
  },
  'host-firewall': {
    fault: 'host-firewall', layer: 'container', causeId: 'host-firewall', exitCode: 14,
    build: (e) => {
      lbAnswers(504, 'Gateway Time-out', 3004)(e);
      server(e, [sighting('ens5', 'ens5', { packets: 3, firstMs: 0, syn: 3, synRetransmits: 2 }), sighting('docker0', 'docker0', {}), sighting(VETH, 'veth', {})],
        synLadder([['ens5', 'in']], [], 2), ['SYN without answer on ens5 (3 tries)', 'SYN seen on ens5 but never on docker0']);
    },
  },
  'dnat-missing': {
    fault: 'dnat-missing', layer: 'container', causeId: 'dnat-missing', exitCode: 14,
    build: (e) => {
      lbAnswers(502, 'Bad Gateway', 1.9)(e);
      server(e, [sighting('ens5', 'ens5', { packets: 2, firstMs: 0, syn: 1, rstBack: 1 }), sighting('docker0', 'docker0', {}), sighting(VETH, 'veth', {})],
        synLadder([['ens5', 'in']], [['ens5', 'RST']], 0), ['SYN seen on ens5 but never on docker0', 'RST from the host on ens5'], false);
    },
  },
  'app-down': {
    fault: 'app-down', layer: 'application', causeId: 'app-not-listening', exitCode: 15,
    build: (e) => {
      lbAnswers(502, 'Bad Gateway', 1.6)(e);
      server(e, [
        sighting('ens5', 'ens5', { packets: 2, firstMs: 0, syn: 1, rstBack: 1 }),
        sighting('docker0', 'docker0', { packets: 2, firstMs: 0.011, syn: 1, rstBack: 1 }),
        sighting(VETH, 'veth', { packets: 2, firstMs: 0.022, syn: 1, rstBack: 1 }),
      ], synLadder([['ens5', 'in'], ['docker0', 'out'], [VETH, 'out']], [[VETH, 'RST'], ['docker0', 'RST'], ['ens5', 'RST']], 0), ['RST from the container (172.17.0.2:8080)']);
    },
  },
  'veth-down': {
    fault: 'veth-down', layer: 'container', causeId: 'veth-down', exitCode: 14,
    build: (e) => {
      lbAnswers(504, 'Gateway Time-out', 3004)(e);
      // As the lab shows it: the bridge's only port is down, so the SYN is not even sent on
      // docker0 (no ARP answer); the link state tells it apart from a host firewall.
      server(e, [
        sighting('ens5', 'ens5', { packets: 3, firstMs: 0, syn: 3, synRetransmits: 2 }),
        sighting('docker0', 'docker0', { link: 'down' }),
        sighting(VETH, 'veth', { link: 'down' }),
      ], synLadder([['ens5', 'in']], [], 2), ['SYN without answer (3 tries)']);
    },
  },
  'veth-down-docker0-seen': {
    fault: 'veth-down', layer: 'container', causeId: 'veth-down', exitCode: 14,
    build: (e) => {
      // As lab-facts.md saw it: the SYN on ens5 and docker0, nothing on the veth.
      lbAnswers(504, 'Gateway Time-out', 3004)(e);
      server(e, [
        sighting('ens5', 'ens5', { packets: 3, firstMs: 0, syn: 3, synRetransmits: 2 }),
        sighting('docker0', 'docker0', { packets: 3, firstMs: 0.011, syn: 3, synRetransmits: 2 }),
        sighting(VETH, 'veth', { link: null }),
      ], synLadder([['ens5', 'in'], ['docker0', 'out']], [], 2), ['SYN without answer (3 tries)']);
    },
  },
  'app-slow': {
    fault: 'app-slow', layer: 'application', causeId: 'app-slow', exitCode: 15,
    build: (e) => {
      lbAnswers(504, 'Gateway Time-out', 3004)(e);
      const s = healthyServer();
      const packets = s.packets.filter((p) => p.packetId <= 5);
      e.server = {
        ...s, packets, appTimeMs: null,
        interfaces: s.interfaces.map((i) => ({ ...i, responseStatus: null })),
        path: [`request: 172.31.0.10 → ens5 → docker0 → ${VETH} → ${CTR}`, 'response: none before the load balancer gave up'],
        anomalies: ['request without a response'],
      };
    },
  },
  'app-500': {
    fault: 'app-500', layer: 'application', causeId: 'app-error-status', exitCode: 15,
    build: (e) => {
      e.requests = e.requests.map((q) => ({ ...q, httpStatus: 500, reason: 'Internal Server Error', bodyPreview: '{"error":"injected"}' }));
      e.server = healthyServer(500);
    },
  },
  'target-deregistered': {
    fault: 'target-deregistered', layer: 'loadBalancer', causeId: 'lb-no-target', exitCode: 12,
    build: (e) => { lbAnswers(503, 'Service Temporarily Unavailable', 1.2)(e); nothingOnServer(e); },
  },
  'healthy-no-server': {
    fault: null, layer: null, causeId: null, exitCode: 0,
    build: (e) => { e.server = null; e.options.server = null; },
  },
  'sg-block-no-server': {
    fault: null, layer: null, causeId: 'incomplete', exitCode: 16,
    build: (e) => { lbAnswers(504, 'Gateway Time-out', 3004)(e); e.server = null; e.options.server = null; },
  },
};

export function scenarioResult(name: string): FollowResult {
  const sc = SCENARIOS[name];
  if (!sc) throw new Error(`no scenario ${name}`);
  const e = base();
  sc.build(e);
  return { ...e, verdict: decideVerdict(e) };
}
