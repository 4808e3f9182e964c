/**
 * Hand-drawn SVG for the report: the path map, the ladder (sequence) diagram of the request's
 * packets per observation point, and the waterfall of the client's phases. Pure functions of
 * the follow result; colours come from CSS classes so light/dark/print styles apply.
 */
import type { FollowResult, LayerId, NatMapping, PacketObservation, RequestEvidence } from '../follow/index.js';
import { fmtMs } from '../follow/index.js';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);
}

// ── the path map ───────────────────────────────────────────────────────────────────────

/** pass: seen working; fail: where it stopped; skipped: never reached; unknown: not observed. */
export type NodeState = 'pass' | 'fail' | 'skipped' | 'unknown' | 'quiet';

export interface PathNode {
  kind: 'client' | 'dns' | 'router' | 'lb' | 'iface' | 'container' | 'app';
  label: string;
  detail: string;
  state: NodeState;
  /** Marked as the place the request stopped. */
  failing: boolean;
  layer: LayerId;
  /**
   * Load-balancer nodes only, when several were tried: `carried` is the one whose request the
   * server capture followed; `other` the ones tried beside it. Consecutive `lb` nodes are
   * drawn side by side as one step of the path.
   */
  role?: 'carried' | 'other';
  /** The carrier only: how it was matched (see followedRequest). */
  matchedBy?: 'trace-id' | 'request-line' | 'timing';
}

export interface FollowedRequest {
  request: RequestEvidence;
  /** trace-id: its Root was in the capture; request-line: its method, path and Host (explain); timing: inferred from the order and times. */
  by: 'trace-id' | 'request-line' | 'timing';
}

/**
 * The request the server capture followed: the first one whose connection was found on the
 * instance — by its trace id, or by timing when no HTTP got through (server.requests says which).
 */
export function followedRequest(r: FollowResult): FollowedRequest | null {
  const sr = r.server?.requests.find((x) => x.journey !== null && x.matchedBy !== null) ?? null;
  if (!sr || !sr.matchedBy) return null;
  const q = r.requests.find((x) => x.traceId === sr.traceRoot);
  return q ? { request: q, by: sr.matchedBy } : null;
}

/** The star of the carrier: solid when matched by trace id, hollow when by timing. */
export const CARRIER_STAR = { 'trace-id': '★', 'request-line': '★', timing: '☆' } as const;

/** The carrier's tooltip: how it was matched. */
export function carrierNote(by: 'trace-id' | 'request-line' | 'timing'): string {
  if (by === 'request-line') return 'carried the followed request — matched by its request line: the method, path and Host the client sent were in the capture on the instance (no trace id was sent)';
  return by === 'trace-id'
    ? 'carried the followed request — matched by trace id: its X-Amzn-Trace-Id Root was in the capture on the instance'
    : 'carried the followed request — matched by timing: no trace id reached the instance; the connection seen there came first and fits this request, the first one the load balancer forwarded to the target';
}

/** The request's path as a list of nodes, each with its state from the evidence. */
export function pathNodes(r: FollowResult): PathNode[] {
  const v = r.verdict;
  const status = (layer: LayerId): string => v.rows.find((x) => x.layer === layer)?.status ?? 'not-checked';
  const st = (layer: LayerId): NodeState => {
    const s = status(layer);
    return s === 'pass' || s === 'warn' ? 'pass' : s === 'fail' ? 'fail' : v.firstFailing && layerIndex(layer) > layerIndex(v.firstFailing) ? 'skipped' : 'unknown';
  };
  const nodes: PathNode[] = [];
  const req = r.requests.find((q) => q.httpStatus !== null) ?? r.requests[0] ?? null;
  nodes.push({ kind: 'client', label: 'client', detail: req?.localAddress?.replace(/:\d+$/, '') ?? 'this machine', state: 'pass', failing: false, layer: 'dns' });
  nodes.push({ kind: 'dns', label: 'DNS', detail: r.dns.server?.split('#')[0] ?? r.dns.status, state: st('dns'), failing: v.firstFailing === 'dns', layer: 'dns' });

  // Routers: from the primary trace of the address the first request used.
  const addr = req?.address ?? r.dns.addresses[0];
  const trace = r.routes.find((t) => t.address === addr && t.proto === 'tcp') ?? r.routes.find((t) => t.address === addr) ?? null;
  const routeFailing = v.firstFailing === 'route';
  if (trace) {
    const hops = trace.hops.filter((h) => !h.isDestination);
    // The failing hop: the flagged one, or the first silent hop after the last that answered.
    const lastAnswered = Math.max(-1, ...hops.map((h, i) => (h.responders.length ? i : -1)));
    const flagged = hops.findIndex((h) => h.flag !== null);
    const failIdx = !routeFailing ? -1 : flagged >= 0 ? flagged : lastAnswered + 1;
    hops.forEach((h, i) => {
      const who = h.responders[0]?.address ?? '*';
      const rtts = h.responders.flatMap((x) => x.rttMs);
      const silentAfter = h.responders.length === 0 && hops.slice(i + 1).some((x) => x.responders.length > 0 || trace.status === 'reached');
      let detail = rtts.length ? `${fmtMs(Math.min(...rtts))}${h.flag ? ` ${h.flag}` : ''}` : silentAfter ? 'no reply: rate-limited or filtered, path goes on' : 'no reply';
      if (i === failIdx) detail = h.flag ? `${h.flag}: rejects` : 'drops the traffic';
      const state: NodeState = i === failIdx ? 'fail' : routeFailing && i > failIdx ? 'skipped' : h.responders.length ? 'pass' : 'quiet';
      nodes.push({ kind: 'router', label: `hop ${h.ttl} ${who}`, detail, state, failing: i === failIdx, layer: 'route' });
      if (i === failIdx && h.flag === null && h.responders.length === 0) nodes[nodes.length - 1]!.label = `hop ${h.ttl} *`;
    });
    if (routeFailing && failIdx >= hops.length) nodes.push({ kind: 'router', label: `hop ${hops.length + 1} *`, detail: 'drops the traffic', state: 'fail', failing: true, layer: 'route' });
  }
  // Every load-balancer node tried, in the order tried; the one whose request the capture
  // followed (by trace id, or else by timing) is marked as the carrier.
  const lbFailing = v.firstFailing === 'loadBalancer';
  const tried = r.requests.length ? r.requests : [null];
  const carrier = followedRequest(r);
  const followed = carrier?.request ?? null;
  const badLb = (q: RequestEvidence | null): boolean => !q || q.httpStatus === null || q.httpStatus >= 500;
  const anyBad = tried.some(badLb);
  for (const q of tried) {
    const a = q?.address ?? addr;
    const role = tried.length > 1 && followed ? (q === followed ? 'carried' : 'other') : undefined;
    // The nodes the verdict says fail: all of them when the load balancer layer fails, the
    // named ones when only some addresses fail (partial), whatever layer it is behind them.
    const failing = (lbFailing && !v.partial && (!anyBad || badLb(q))) || (v.partial?.failing.some((x) => x.address === q?.address) ?? false);
    nodes.push({
      kind: 'lb', label: `${q?.node ? `ALB ${q.node}` : 'load balancer'}${role === 'carried' ? ` ${CARRIER_STAR[carrier!.by]}` : ''}`,
      detail: `${a ?? '?'}${q?.httpStatus ? ` → ${q.httpStatus}` : q?.error ? ` ${q.error.code}` : ''}`,
      state: st('loadBalancer'), failing, layer: 'loadBalancer', ...(role ? { role } : {}), ...(role === 'carried' ? { matchedBy: carrier!.by } : {}),
    });
  }

  const s = r.server;
  const find = (role: string) => s?.interfaces.find((i) => i.role === role && i.packets > 0) ?? s?.interfaces.find((i) => i.role === role) ?? null;
  const uplink = find('uplink');
  const bridge = find('bridge');
  const veth = find('container');
  const when = (x: { firstMs: number | null } | null): string => (x && x.firstMs !== null ? `+${fmtMs(x.firstMs)}` : 'not seen');
  // The interface the break names: the first point the packet never reached (either way).
  const brk = v.break;
  const failAt = brk?.kind === 'stopped' || brk?.kind === 'answered-by-host' ? brk.at?.interface ?? null : null;
  const reply = v.direction === 'reply';
  nodes.push({ kind: 'iface', label: uplink?.iface ?? 'uplink', detail: s ? (v.firstFailing === 'instance' && reply ? 'reply lost beyond' : when(uplink)) : 'not checked', state: st('instance'), failing: v.firstFailing === 'instance' || (failAt !== null && failAt === uplink?.iface), layer: 'instance' });
  const containerState = st('container');
  // The request never got past the uplink on the way into the container (refused by the host,
  // say): the bridge is where it should have gone next.
  const bridgeFails = (failAt !== null && failAt === bridge?.iface) || (failAt === null && v.firstFailing === 'container' && !reply && brk !== null && (brk.kind === 'refused' || brk.kind === 'answered-by-host'));
  const vethFails = failAt !== null && failAt === veth?.iface;
  const innerDetail = (x: typeof bridge, fails: boolean): string => (!s ? 'not checked' : fails ? (reply ? 'reply never crossed' : 'never reached') : when(x));
  if (bridge || s === null) nodes.push({ kind: 'iface', label: bridge?.iface ?? 'bridge', detail: innerDetail(bridge, bridgeFails), state: bridgeFails ? 'fail' : containerState === 'fail' ? 'pass' : containerState, failing: bridgeFails, layer: 'container' });
  if (veth || s === null) nodes.push({ kind: 'iface', label: veth?.iface ?? 'veth', detail: innerDetail(veth, vethFails), state: vethFails ? 'fail' : bridgeFails && !reply ? 'skipped' : containerState === 'fail' && !vethFails ? 'pass' : containerState, failing: vethFails, layer: 'container' });
  const nat = s?.nat[0]?.to ?? 'container';
  const containerFails = v.firstFailing === 'container' && !bridgeFails && !vethFails && failAt === null;
  const containerNode: NodeState = containerFails ? 'fail' : v.firstFailing === 'container' && !reply ? 'skipped' : st('container');
  nodes.push({ kind: 'container', label: 'container', detail: containerNode === 'skipped' ? 'not reached' : nat, state: containerNode, failing: containerFails, layer: 'container' });
  const appRow = v.rows.find((x) => x.layer === 'application');
  const appStatus = s?.requests.find((x) => x.journey)?.journey?.applicationStatus ?? (v.ok ? req?.httpStatus ?? null : null);
  const appDetail = brk?.kind === 'refused' ? 'RST: not listening' : brk?.kind === 'no-response' ? 'no answer in time' : brk?.kind === 'no-answer' && v.firstFailing === 'application' ? 'never answered' : appStatus !== null ? `HTTP ${appStatus}` : appRow?.status === 'not-checked' ? 'not reached' : '—';
  nodes.push({ kind: 'app', label: 'application', detail: appDetail, state: st('application'), failing: v.firstFailing === 'application', layer: 'application' });
  return nodes;
}

function layerIndex(l: LayerId): number {
  return ['dns', 'route', 'loadBalancer', 'instance', 'container', 'application'].indexOf(l);
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/** The widest horizontal map, so that it fits the report's 1280 px layout without scrolling. */
export const PATHMAP_MAX_WIDTH = 1120;

interface Box { x: number; y: number; w: number; h: number }

/**
 * The path map, horizontal (wide screens) or vertical (phones, print). The steps of the path
 * run in a snake (left to right, then right to left on the next row) at most
 * PATHMAP_MAX_WIDTH wide; the load-balancer nodes tried share one step (stacked in the
 * horizontal map, side by side in the vertical one), the carrier marked ★ and the others dashed.
 */
export function pathMapSvg(nodes: PathNode[], orientation: 'horizontal' | 'vertical'): string {
  const horizontal = orientation === 'horizontal';
  // Steps: consecutive lb nodes form one step.
  const steps: PathNode[][] = [];
  for (const n of nodes) {
    const last = steps[steps.length - 1];
    if (last && n.kind === 'lb' && last[0]!.kind === 'lb') last.push(n);
    else steps.push([n]);
  }
  const boxW = horizontal ? 136 : 300;
  const boxH = 52;
  const stackGap = 8;
  const gap = 22;
  const margin = 16; // room for the U-turn between rows
  const perRow = horizontal ? Math.max(1, Math.min(steps.length, Math.floor((PATHMAP_MAX_WIDTH - 2 * margin + gap) / (boxW + gap)))) : 1;
  const rows = Math.ceil(steps.length / perRow);
  const maxStack = Math.max(1, ...steps.map((st) => st.length));
  const rowH = horizontal ? maxStack * boxH + (maxStack - 1) * stackGap : boxH;
  const width = horizontal ? perRow * boxW + (perRow - 1) * gap + 2 * margin : boxW + 2 * margin;
  const height = rows * rowH + (rows - 1) * gap + 2 * margin;
  const rtl = (row: number): boolean => horizontal && row % 2 === 1; // the snake's way back
  const slot = (i: number): Box & { row: number } => {
    const row = Math.floor(i / perRow);
    let c = i % perRow;
    if (rtl(row)) c = perRow - 1 - c;
    return { x: margin + c * (boxW + gap), y: margin + row * (rowH + gap), w: boxW, h: rowH, row };
  };
  const boxes = (i: number): Box[] => {
    const sl = slot(i);
    const k = steps[i]!.length;
    if (horizontal) {
      const total = k * boxH + (k - 1) * stackGap;
      const y0 = sl.y + (rowH - total) / 2;
      return steps[i]!.map((_, j) => ({ x: sl.x, y: y0 + j * (boxH + stackGap), w: boxW, h: boxH }));
    }
    const w = (boxW - (k - 1) * stackGap) / k;
    return steps[i]!.map((_, j) => ({ x: sl.x + j * (w + stackGap), y: sl.y, w, h: boxH }));
  };
  const parts: string[] = [];
  for (let i = 1; i < steps.length; i++) {
    const [sa, sb] = [slot(i - 1), slot(i)];
    const [ba, bb] = [boxes(i - 1), boxes(i)];
    steps[i]!.forEach((n, jb) => steps[i - 1]!.forEach((m, ja) => {
      const a = ba[ja]!;
      const b = bb[jb]!;
      const alt = n.role === 'other' || m.role === 'other';
      const cls = `edge ${n.state === 'skipped' || n.state === 'unknown' ? 'edge-dim' : n.failing ? 'edge-fail' : alt ? 'edge-alt' : ''}`;
      let d: string;
      if (!horizontal) {
        d = `M${a.x + a.w / 2} ${a.y + a.h} L${b.x + b.w / 2} ${b.y}`;
      } else if (sa.row === sb.row) {
        d = rtl(sa.row) ? `M${a.x} ${a.y + a.h / 2} L${b.x + b.w} ${b.y + b.h / 2}` : `M${a.x + a.w} ${a.y + a.h / 2} L${b.x} ${b.y + b.h / 2}`;
      } else {
        // U-turn around the end of the row, outside the boxes.
        const out = rtl(sa.row) ? a.x - margin + 3 : a.x + a.w + margin - 3;
        const [xa, xb] = rtl(sa.row) ? [a.x, b.x] : [a.x + a.w, b.x + b.w];
        d = `M${xa} ${a.y + a.h / 2} L${out} ${a.y + a.h / 2} L${out} ${b.y + b.h / 2} L${xb} ${b.y + b.h / 2}`;
      }
      parts.push(`<path class="${cls}" d="${d}" marker-end="url(#arrow-${orientation})"/>`);
    }));
  }
  steps.forEach((st, i) => {
    const bx = boxes(i);
    st.forEach((n, j) => {
      const p = bx[j]!;
      const mark = n.failing ? '✗ ' : '';
      const chars = Math.floor(p.w / 7.6);
      const by = n.role === 'carried' ? n.matchedBy ?? 'trace-id' : null;
      // The carrier has a third line saying how it was matched.
      const [labelY, detailY] = by ? [17, 31] : [21, 39];
      parts.push(
        `<g class="node node-${n.state}${n.failing ? ' node-failing' : ''}${n.role ? ` node-lb-${n.role}` : ''}${by ? ` node-lb-by-${by}` : ''}" data-kind="${n.kind}" data-layer="${n.layer}"${n.failing ? ' data-failing="true"' : ''}${n.role ? ` data-role="${n.role}"` : ''}${by ? ` data-matched="${by}"` : ''}>` +
        `<title>${esc(`${n.label}: ${n.detail} (${by ? carrierNote(by) : n.role === 'other' ? 'also tried; not the request followed on the instance' : ''})`.replace(/ \(\)$/, ''))}</title>` +
        `<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" rx="8"/>` +
        `<text x="${p.x + p.w / 2}" y="${p.y + labelY}" class="node-label">${esc(mark + truncate(n.label, chars - mark.length))}</text>` +
        `<text x="${p.x + p.w / 2}" y="${p.y + detailY}" class="node-detail">${esc(truncate(n.detail, chars + 3))}</text>` +
        (by ? `<text x="${p.x + p.w / 2}" y="${p.y + 45}" class="node-matched">${by === 'trace-id' ? 'by trace id' : by === 'request-line' ? 'by request line' : 'by timing'}</text>` : '') + '</g>',
      );
    });
  });
  return `<svg class="pathmap pathmap-${orientation}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="path of the request">` +
    `<defs><marker id="arrow-${orientation}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" class="arrowhead"/></marker></defs>` +
    parts.join('') + '</svg>';
}

// ── the ladder ─────────────────────────────────────────────────────────────────────────

/** Observation points in path order: the load balancer's side, the uplink, the bridge, the veth(s), the container side. */
function ladderLanes(packets: PacketObservation[], known: string[]): string[] {
  // `known` comes in path order (the server's interfaces sorted by role: uplink, bridge, container side).
  const rank = (i: string): number => { const k = known.indexOf(i); return k < 0 ? known.length : k; };
  return [...new Set([...known, ...packets.map((p) => p.iface)])].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** One packet of the ladder: its copies, and the lanes its arrow runs through. */
interface LadderRow {
  copies: PacketObservation[];
  first: PacketObservation;
  req: boolean;
  /** Lane indices: where the arrow starts, each copy, where it ends. */
  lanePath: number[];
  /** The lane of the last copy. */
  last: number;
  /** A request that did not reach the application: dashed, ✗ after its last copy. */
  failing: boolean;
  /** The NAT rewrite written on this row: the address before and after it (on ens5 and docker0 on a Docker host). */
  natAddr: { word: 'dst' | 'src'; onEns5: string; onDocker0: string } | null;
}

interface LadderModel {
  lanes: string[];
  rows: LadderRow[];
  nat: NatMapping | null;
  ens5: number;
  docker0: number;
  /** What never came back, as a last row (null: nothing missing). */
  missing: string | null;
}

function ladderModel(r: FollowResult): LadderModel | null {
  const s = r.server;
  if (!s || s.packets.length === 0) return null;
  const ifaces = ladderLanes(s.packets, s.interfaces.filter((i) => i.packets > 0 || i.role === 'bridge' || i.role === 'container').map((i) => i.iface));
  const lanes = ['load balancer', ...ifaces, 'application'];
  const byPacket = new Map<number, PacketObservation[]>();
  for (const p of s.packets) {
    const list = byPacket.get(p.packetId) ?? [];
    list.push(p);
    byPacket.set(p.packetId, list);
  }
  const groups = [...byPacket.values()].sort((a, b) => Math.min(...a.map((x) => x.tMs)) - Math.min(...b.map((x) => x.tMs)));
  // What did not come back is part of the story: a last row says so.
  const brk = r.verdict.break;
  const missing = brk?.kind === 'no-response' ? 'no answer from the application before the load balancer gave up'
    : brk?.kind === 'stopped' && brk.way === 'request' ? `no answer: the ${brk.packet === 'syn' ? 'SYN' : brk.packet} is dropped on the host`
      : brk?.kind === 'stopped' ? 'the reply never left the host'
        : brk?.kind === 'lost-after' ? 'the reply left the instance and never arrived' : null;
  const nat = s.nat[0] ?? null;
  // The NAT band sits between the interfaces the rewrite is seen between (ens5 → docker0 on a Docker host).
  const [natBefore, natAfter] = nat ? nat.between.split(' → ') : [];
  const uplinkName = s.interfaces.find((i) => i.role === 'uplink' && i.packets > 0)?.iface ?? natBefore ?? lanes[1]!;
  const ens5 = lanes.indexOf(natBefore ?? uplinkName);
  const docker0 = natAfter ? lanes.indexOf(natAfter) : -1;
  const uplinkLane = lanes.indexOf(uplinkName);
  // The rewrite is written on the first packet each way that shows it.
  const natShown = { request: false, response: false };
  const rows = groups.map((copies): LadderRow => {
    copies.sort((a, b) => a.tMs - b.tMs);
    const first = copies[0]!;
    const req = first.way === 'request';
    const seen = copies.map((c) => lanes.indexOf(c.iface));
    const endpointFrom = req ? 0 : lanes.length - 1;
    const endpointTo = req ? lanes.length - 1 : 0;
    // From where it comes from (endpoint, or the first lane it was seen on for host-made
    // packets such as an RST the host itself sends on ens5) through every copy.
    const hostMade = !req && seen[0] !== lanes.length - 2;
    const start = hostMade ? seen[0]! : endpointFrom;
    const last = seen[seen.length - 1]!;
    // A request copy seen on the innermost interface has been delivered to the container; a
    // reply seen leaving by the uplink has left the host.
    const reachesEnd = req ? last === lanes.length - 2 : seen.includes(uplinkLane);
    const end = reachesEnd ? endpointTo : last;
    let natAddr: LadderRow['natAddr'] = null;
    const onEns5 = copies.find((c) => c.iface === lanes[ens5]);
    const onDocker0 = copies.find((c) => c.iface === lanes[docker0]);
    if (nat && onEns5 && onDocker0 && !natShown[first.way]) {
      const [a, b] = req ? [onEns5.dst, onDocker0.dst] : [onEns5.src, onDocker0.src];
      if (a !== b) {
        natShown[first.way] = true;
        natAddr = { word: req ? 'dst' : 'src', onEns5: a, onDocker0: b };
      }
    }
    return { copies, first, req, lanePath: [start, ...seen, end], last, failing: !reachesEnd, natAddr };
  });
  return { lanes, rows, nat, ens5, docker0, missing };
}

function msgClass(row: LadderRow): string {
  return `msg msg-${row.req ? 'req' : 'resp'}${/RST/.test(row.first.label) ? ' msg-rst' : ''}${row.failing ? ' msg-lost' : ''}`;
}

function copiesTitle(row: LadderRow): string {
  return `<title>${esc(`${row.first.label}\n${row.copies.map((c) => `${c.iface} ${c.direction ?? ''} +${c.tMs.toFixed(3)} ms ${c.src} → ${c.dst}`).join('\n')}`)}</title>`;
}

const LADDER_DEFS = '<defs><marker id="ladder-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" class="arrowhead"/></marker></defs>';

/**
 * The ladder, wide (laptops, print): a column of row times, lanes 150 px apart, the NAT
 * rewrite written on the first packet each way.
 */
export function ladderSvg(r: FollowResult): string | null {
  const m = ladderModel(r);
  if (!m) return null;
  const { lanes, rows, nat, ens5, docker0: d0, missing } = m;
  const laneW = 150;
  const left = 96;
  const top = 64;
  const rowH = 38;
  const width = left + laneW * (lanes.length - 1) + 70;
  const height = top + (rows.length + (missing ? 1 : 0)) * rowH + 30;
  const x = (lane: number): number => left + lane * laneW;
  const parts: string[] = [];
  lanes.forEach((name, i) => {
    parts.push(`<line class="lane" x1="${x(i)}" y1="${top - 16}" x2="${x(i)}" y2="${height - 10}"/>`);
    parts.push(`<text class="lane-label" x="${x(i)}" y="${top - 40}">${esc(name)}</text>`);
  });
  if (nat && ens5 >= 0 && d0 >= 0) {
    const mid = (x(ens5) + x(d0)) / 2;
    // A band down the whole ladder: every packet crossing it is rewritten there.
    parts.push(`<rect class="nat-band" x="${x(ens5) + 6}" y="${top - 2}" width="${x(d0) - x(ens5) - 12}" height="${height - top - 8}"/>`);
    parts.push(`<g class="nat"><rect x="${mid - 62}" y="${top - 32}" width="124" height="28" rx="4"/><text x="${mid}" y="${top - 21}">DNAT ${esc(nat.from)}</text><text x="${mid}" y="${top - 9}">→ ${esc(nat.to)}</text></g>`);
  }
  rows.forEach((row, i) => {
    const y = top + i * rowH + 18;
    const xs = row.lanePath.map(x);
    parts.push(`<g class="${msgClass(row)}" data-label="${esc(row.first.label)}">${copiesTitle(row)}`);
    parts.push(`<line x1="${xs[0]}" y1="${y}" x2="${xs[xs.length - 1]}" y2="${y}" marker-end="url(#ladder-arrow)"/>`);
    for (const c of row.copies) {
      const cx = x(lanes.indexOf(c.iface));
      parts.push(`<circle cx="${cx}" cy="${y}" r="3.5"/><text class="copy-time" x="${cx + (row.req ? -4 : 4)}" y="${y + 12}" text-anchor="${row.req ? 'end' : 'start'}">+${c.tMs.toFixed(3)}</text>`);
    }
    // ✗ past the last copy, on the side the packet was going (right for requests, left for replies).
    if (row.failing) parts.push(`<text class="lost" x="${row.req ? x(row.last) + 18 : x(row.last) - 26}" y="${y + 5}">✗</text>`);
    if (row.natAddr) {
      const a = row.natAddr;
      // Above the line, clear of the message label and the copy times.
      const ax = row.req ? x(ens5) + 6 : x(ens5) - 6;
      parts.push(`<text class="nat-addr" x="${ax}" y="${y - 5}" text-anchor="${row.req ? 'start' : 'end'}">${a.word} ${esc(a.onEns5)}</text>`);
      parts.push(`<text class="nat-addr" x="${x(d0) + 6}" y="${y - 5}" text-anchor="start">${a.word} ${esc(a.onDocker0)}</text>`);
    }
    const labelX = (xs[0]! + (xs[1] ?? xs[0]!)) / 2; // on the first segment, clear of the lanes
    parts.push(`<text class="msg-label" x="${labelX}" y="${y - 5}">${esc(row.first.label)}</text></g>`);
    parts.push(`<text class="row-time" x="8" y="${y + 4}">+${row.first.tMs.toFixed(3)} ms</text>`);
  });
  if (missing) {
    const y = top + rows.length * rowH + 18;
    parts.push(`<g class="msg msg-resp msg-lost msg-missing" data-label="no response"><line x1="${x(lanes.length - 1)}" y1="${y}" x2="${x(0)}" y2="${y}"/><text class="lost" x="${x(lanes.length - 1) + 8}" y="${y + 5}">✗</text><text class="msg-label" x="${(x(0) + x(lanes.length - 1)) / 2}" y="${y - 5}">${esc(missing)}</text></g>`);
  }
  return `<svg class="ladder" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="packets of the request per observation point">` +
    LADDER_DEFS + parts.join('') + '</svg>';
}

/** The width phones get the compact diagrams at (the frame's inner width at 390 px is ~348). */
export const COMPACT_WIDTH = 340;

/** Approximate text width in px (system-ui; bold is wider), for layout without a browser. */
function textWidth(s: string, fontPx: number, bold = false): number {
  return s.length * fontPx * (bold ? 0.62 : 0.56);
}

/** Words packed into lines of at most `maxChars` (a longer word stays whole). */
function wrapWords(s: string, maxChars: number): string[] {
  const lines: string[] = [];
  for (const word of s.split(' ')) {
    const lastLine = lines[lines.length - 1];
    if (lastLine !== undefined && lastLine.length + 1 + word.length <= maxChars) lines[lines.length - 1] = `${lastLine} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/**
 * The ladder for phones: COMPACT_WIDTH wide whatever the number of lanes — lanes share the
 * width, lane names wrap (and alternate in height when neighbours would touch), no row-time
 * column (each copy has its time), message labels fit their first segment, the DNAT rule in
 * a box of three lines over its band (the per-packet addresses are in each row's tooltip).
 */
export function ladderCompactSvg(r: FollowResult): string | null {
  const m = ladderModel(r);
  if (!m) return null;
  const { lanes, rows, nat, ens5, docker0: d0, missing } = m;
  const W = COMPACT_WIDTH;
  const laneFont = 9.5;
  const laneLines = lanes.map((name) => wrapWords(name, 8));
  const laneHalf = laneLines.map((ls) => Math.max(...ls.map((l) => textWidth(l, laneFont, true))) / 2);
  const marginL = Math.max(18, laneHalf[0]! + 2);
  const marginR = Math.max(18, laneHalf[lanes.length - 1]! + 2);
  const spacing = (W - marginL - marginR) / (lanes.length - 1);
  const x = (lane: number): number => marginL + lane * spacing;
  // Neighbours' names that would touch go on alternating heights.
  const stagger = laneHalf.some((h, i) => i > 0 && h + laneHalf[i - 1]! > spacing - 10);
  const maxLines = Math.max(...laneLines.map((ls) => ls.length));
  const labelsH = maxLines * 11 + (stagger ? maxLines * 11 : 0);
  const natH = nat && ens5 >= 0 && d0 >= 0 ? 40 : 0;
  const top = labelsH + natH + 14;
  const rowH = 34;
  const missingLines = missing ? wrapWords(missing, Math.floor((W - 70) / (9.5 * 0.62))) : [];
  const height = top + rows.length * rowH + (missing ? 12 + missingLines.length * 12 : 0) + 12;
  const parts: string[] = [];
  lanes.forEach((_, i) => {
    const y0 = 10 + (stagger && i % 2 === 1 ? maxLines * 11 : 0);
    parts.push(`<line class="lane" x1="${x(i)}" y1="${top - 10}" x2="${x(i)}" y2="${height - 4}"/>`);
    parts.push(`<text class="lane-label lane-label-compact" x="${x(i)}" y="${y0}">${laneLines[i]!.map((l, k) => `<tspan x="${x(i)}" dy="${k === 0 ? 0 : 11}">${esc(l)}</tspan>`).join('')}</text>`);
  });
  if (natH) {
    const mid = (x(ens5) + x(d0)) / 2;
    const lines = ['DNAT', nat!.from, `→ ${nat!.to}`];
    const boxW = Math.max(...lines.map((l) => textWidth(l, 9))) + 10;
    const bx = Math.min(Math.max(2, mid - boxW / 2), W - 2 - boxW);
    const by = labelsH + 6;
    parts.push(`<rect class="nat-band" x="${x(ens5) + 4}" y="${top - 6}" width="${Math.max(0, x(d0) - x(ens5) - 8)}" height="${height - top}"/>`);
    parts.push(`<g class="nat nat-compact"><rect x="${bx}" y="${by}" width="${boxW}" height="36" rx="4"/>${lines.map((l, k) => `<text x="${bx + boxW / 2}" y="${by + 11 + k * 11}">${esc(l)}</text>`).join('')}</g>`);
  }
  rows.forEach((row, i) => {
    const y = top + i * rowH + 14;
    const xs = row.lanePath.map(x);
    const segment = Math.abs((xs[1] ?? xs[0]!) - xs[0]!);
    const label = truncate(row.first.label, Math.max(4, Math.floor((segment - 4) / (9.5 * 0.62))));
    parts.push(`<g class="${msgClass(row)}" data-label="${esc(row.first.label)}">${copiesTitle(row)}`);
    parts.push(`<line x1="${xs[0]}" y1="${y}" x2="${xs[xs.length - 1]}" y2="${y}" marker-end="url(#ladder-arrow)"/>`);
    for (const c of row.copies) {
      const cx = x(lanes.indexOf(c.iface));
      parts.push(`<circle cx="${cx}" cy="${y}" r="3"/><text class="copy-time copy-time-compact" x="${cx + (row.req ? -3 : 3)}" y="${y + 10}" text-anchor="${row.req ? 'end' : 'start'}">+${c.tMs.toFixed(3)}</text>`);
    }
    if (row.failing) parts.push(`<text class="lost" x="${row.req ? Math.min(x(row.last) + 8, W - 12) : Math.max(x(row.last) - 18, 2)}" y="${y + 5}">✗</text>`);
    parts.push(`<text class="msg-label msg-label-compact" x="${(xs[0]! + (xs[1] ?? xs[0]!)) / 2}" y="${y - 4}">${esc(label)}</text></g>`);
  });
  if (missing) {
    const y = top + rows.length * rowH + 6 + missingLines.length * 12;
    const [x0, x1] = [x(0), x(lanes.length - 1)];
    // The ✗ where the answer should have arrived: the load balancer's side, at the left.
    parts.push(`<g class="msg msg-resp msg-lost msg-missing" data-label="no response"><line x1="${x1}" y1="${y}" x2="${x0}" y2="${y}"/><text class="lost" x="${Math.max(x0 - 14, 2)}" y="${y + 5}">✗</text>` +
      missingLines.map((l, k) => `<text class="msg-label msg-label-compact" x="${(x0 + x1) / 2}" y="${y - 4 - (missingLines.length - 1 - k) * 12}">${esc(l)}</text>`).join('') + '</g>');
  }
  return `<svg class="ladder-compact" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="packets of the request per observation point">` +
    LADDER_DEFS.replace(/ladder-arrow/g, 'ladder-arrow-compact') + parts.join('').replace(/url\(#ladder-arrow\)/g, 'url(#ladder-arrow-compact)') + '</svg>';
}

// ── the waterfall ──────────────────────────────────────────────────────────────────────

const PHASES: Array<{ key: keyof RequestEvidence['phases']; name: string }> = [
  { key: 'dnsMs', name: 'dns' },
  { key: 'connectMs', name: 'connect' },
  { key: 'tlsMs', name: 'tls' },
  { key: 'firstByteMs', name: 'first byte' },
  { key: 'downloadMs', name: 'download' },
];

interface WaterfallRow { label: string; segs: Array<{ name: string; ms: number }>; total: number; failed: boolean }

function waterfallRows(r: FollowResult): WaterfallRow[] | null {
  const reqs = r.requests;
  if (reqs.length === 0) return null;
  // The walk's DNS lookup is its own row (the requests go to given addresses, --resolve
  // style, so they have no lookup of their own); then one row per request, from its connect.
  const rows: WaterfallRow[] = [];
  if (r.dns.elapsedMs !== null) {
    rows.push({ label: 'dns lookup', segs: PHASES.map((p) => ({ name: p.name, ms: p.key === 'dnsMs' ? r.dns.elapsedMs ?? 0 : 0 })), total: r.dns.elapsedMs, failed: r.dns.addresses.length === 0 });
  }
  for (const q of reqs) {
    const segs = PHASES.map((p) => ({ name: p.name, ms: q.phases[p.key] ?? 0 }));
    const total = Math.max(segs.reduce((n, x) => n + x.ms, 0), q.phases.totalMs ?? 0);
    rows.push({ label: `${q.node ?? q.address} · ${q.httpStatus !== null ? q.httpStatus : q.error?.code ?? 'error'}`, segs, total, failed: q.error !== null });
  }
  return rows;
}

/** One row's phase bars from `x0`, `barW` px for the longest row. */
function waterfallBars(row: WaterfallRow, x0: number, y: number, barW: number, maxMs: number, barH: number): string {
  const sx = (ms: number): number => (ms / maxMs) * barW;
  const out: string[] = [];
  let at = 0;
  row.segs.forEach((seg, k) => {
    if (seg.ms > 0) {
      const w = Math.max(1.5, sx(seg.ms));
      out.push(`<rect class="ph ph-${k}" x="${x0 + sx(at)}" y="${y}" width="${w}" height="${barH}" rx="2"><title>${esc(`${seg.name}: ${fmtMs(seg.ms)}`)}</title></rect>`);
    }
    at += seg.ms;
  });
  // A failed request: the time it waited before giving up, dashed.
  if (row.failed && row.total > at) out.push(`<line class="wf-wait" x1="${x0 + sx(at)}" y1="${y + barH / 2}" x2="${x0 + sx(row.total)}" y2="${y + barH / 2}"><title>${esc(`waited ${fmtMs(row.total - at)}, then failed`)}</title></line>`);
  return out.join('');
}

/** The waterfall, wide: labels in a column on the left, bars 560 px. */
export function waterfallSvg(r: FollowResult): string | null {
  const rows = waterfallRows(r);
  if (!rows) return null;
  const maxMs = Math.max(...rows.map((x) => x.total), 0.001);
  const labelW = 150;
  const barW = 560;
  const rowH = 34;
  const top = 30;
  const width = labelW + barW + 90;
  const height = top + rows.length * rowH + 20;
  const sx = (ms: number): number => (ms / maxMs) * barW;
  const parts: string[] = [];
  PHASES.forEach((p, i) => {
    parts.push(`<rect class="ph ph-${i}" x="${labelW + i * 100}" y="6" width="12" height="12" rx="2"/><text class="legend" x="${labelW + i * 100 + 16}" y="16">${p.name}</text>`);
  });
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    parts.push(`<text class="wf-label" x="0" y="${y + 16}">${esc(row.label)}</text>`);
    parts.push(waterfallBars(row, labelW, y + 4, barW, maxMs, 18));
    if (row.failed) parts.push(`<text class="lost" x="${labelW + sx(row.total) + 4}" y="${y + 18}">✗</text>`);
    parts.push(`<text class="wf-total" x="${labelW + barW + 14}" y="${y + 17}">${fmtMs(row.total)}</text>`);
  });
  return `<svg class="waterfall" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="client phase timings">${parts.join('')}</svg>`;
}

/**
 * The waterfall for phones (COMPACT_WIDTH wide): each row's label on its own line above its
 * bar, so the bars get the whole width; the legend wraps; the total (with ✗ for a failed
 * request) at the end of the bar's line.
 */
export function waterfallCompactSvg(r: FollowResult): string | null {
  const rows = waterfallRows(r);
  if (!rows) return null;
  const W = COMPACT_WIDTH;
  const maxMs = Math.max(...rows.map((x) => x.total), 0.001);
  const totalW = 62;
  const barW = W - totalW;
  const parts: string[] = [];
  // The legend, wrapped.
  let lx = 0;
  let ly = 4;
  PHASES.forEach((p, i) => {
    const w = 14 + textWidth(p.name, 10) + 12;
    if (lx > 0 && lx + w > W) { lx = 0; ly += 16; }
    parts.push(`<rect class="ph ph-${i}" x="${lx}" y="${ly}" width="10" height="10" rx="2"/><text class="legend" x="${lx + 14}" y="${ly + 9}">${p.name}</text>`);
    lx += w;
  });
  const top = ly + 22;
  const rowH = 40;
  const labelChars = Math.floor(W / (11 * 0.56));
  rows.forEach((row, i) => {
    const y = top + i * rowH;
    parts.push(`<text class="wf-label" x="0" y="${y + 11}">${esc(truncate(row.label, labelChars))}</text>`);
    parts.push(waterfallBars(row, 0, y + 16, barW - 6, maxMs, 14));
    parts.push(`<text class="wf-total" x="${barW}" y="${y + 27}">${row.failed ? '<tspan class="lost-inline">✗ </tspan>' : ''}${fmtMs(row.total)}</text>`);
  });
  const height = top + rows.length * rowH + 4;
  return `<svg class="waterfall-compact" viewBox="0 0 ${W} ${height}" width="${W}" height="${height}" role="img" aria-label="client phase timings">${parts.join('')}</svg>`;
}
