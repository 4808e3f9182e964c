/**
 * Interfaces with their addresses (`ip -j -d addr show`) and neighbour entries
 * (`ip -j neigh show`), ip-address(8), ip-neighbour(8). The JSON fields are iproute2's.
 */
import type { LinkFacts, NeighbourFacts } from './types.js';

function parseArray(json: string): Array<Record<string, unknown>> {
  let parsed: unknown;
  try { parsed = JSON.parse(json); } catch { return []; }
  return Array.isArray(parsed) ? parsed.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null) : [];
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Parses `ip -j -d addr show`. Entries without index or name are skipped; never throws. */
export function parseAddrJson(json: string): LinkFacts[] {
  const out: LinkFacts[] = [];
  for (const e of parseArray(json)) {
    const ifindex = num(e.ifindex);
    const name = str(e.ifname);
    if (ifindex === null || name === null) continue;
    const flags = Array.isArray(e.flags) ? e.flags.filter((f): f is string => typeof f === 'string') : null;
    const operstate = str(e.operstate) ?? 'UNKNOWN';
    const linkinfo = typeof e.linkinfo === 'object' && e.linkinfo !== null ? e.linkinfo as Record<string, unknown> : null;
    const addrInfo = Array.isArray(e.addr_info) ? e.addr_info as Array<Record<string, unknown>> : [];
    out.push({
      name, ifindex, kind: str(linkinfo?.info_kind), master: str(e.master), operstate,
      // lo is UP/LOWER_UP with operstate UNKNOWN; a veth whose peer is down is UP without LOWER_UP.
      up: flags !== null ? flags.includes('UP') && flags.includes('LOWER_UP') : operstate === 'UP' || operstate === 'UNKNOWN',
      mtu: num(e.mtu), mac: str(e.address),
      // Link-local (fe80::/64 on every interface) and host-scope (127.0.0.1, ::1) say nothing about paths.
      addresses: addrInfo.filter((a) => typeof a?.local === 'string' && a.scope !== 'link' && a.scope !== 'host')
        .map((a) => `${a.local as string}/${num(a.prefixlen) ?? ''}`),
      peerIfindex: num(e.link_index), peerNetnsId: num(e.link_netnsid),
    });
  }
  return out;
}

/** Parses `ip -j neigh show`. Entries without address or device are skipped; never throws. */
export function parseNeighJson(json: string): NeighbourFacts[] {
  const out: NeighbourFacts[] = [];
  for (const e of parseArray(json)) {
    const address = str(e.dst);
    const dev = str(e.dev);
    if (address === null || dev === null) continue;
    out.push({
      address, dev, lladdr: str(e.lladdr),
      state: Array.isArray(e.state) ? e.state.filter((s): s is string => typeof s === 'string') : [],
    });
  }
  return out;
}
