/**
 * The interfaces of the capture's namespace, read at capture start (`ip -j -d link`): index →
 * name (what an SLL2 packet's ifindex means), kind (veth, bridge…), bridge master, and for a
 * veth its peer's ifindex (`link_index`) — the start of container attribution
 * (./attribution.ts).
 *
 * ip-link(8); the JSON fields are iproute2's (`ifindex`, `ifname`, `link_index`,
 * `link_netnsid`, `master`, `linkinfo.info_kind`, `operstate`, `address`).
 */
import { MissingDependencyError, CaptureError } from '../../errors.js';
import { systemRunner, type ProcessRunner } from './programs.js';

export interface LinkInfo {
  ifindex: number;
  name: string;
  /** `veth`, `bridge`, `dummy`… or null for a plain device (ens5 on EC2, lo). */
  kind: string | null;
  /** The bridge it is enslaved to (a veth in docker0), or null. */
  master: string | null;
  /** For a veth: the peer's ifindex (in the peer's namespace when `peerNetnsId` is set). */
  peerIfindex: number | null;
  /** The peer's namespace id as this namespace knows it (`ip netns list-id`); null: same namespace. */
  peerNetnsId: number | null;
  operstate: string;
  mac: string | null;
  mtu: number | null;
}

interface IpLinkJson {
  ifindex?: number;
  ifname?: string;
  link_index?: number;
  link_netnsid?: number;
  master?: string;
  operstate?: string;
  address?: string;
  mtu?: number;
  linkinfo?: { info_kind?: string };
}

/** Parses `ip -j -d link` output. Unknown fields are ignored; entries without index/name skipped. */
export function parseIpLinkJson(text: string): LinkInfo[] {
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { return []; }
  if (!Array.isArray(parsed)) return [];
  const out: LinkInfo[] = [];
  for (const e of parsed as IpLinkJson[]) {
    if (typeof e?.ifindex !== 'number' || typeof e.ifname !== 'string') continue;
    out.push({
      ifindex: e.ifindex,
      name: e.ifname,
      kind: e.linkinfo?.info_kind ?? null,
      master: e.master ?? null,
      peerIfindex: typeof e.link_index === 'number' ? e.link_index : null,
      peerNetnsId: typeof e.link_netnsid === 'number' ? e.link_netnsid : null,
      operstate: e.operstate ?? 'UNKNOWN',
      mac: e.address ?? null,
      mtu: typeof e.mtu === 'number' ? e.mtu : null,
    });
  }
  return out;
}

/** The links of this namespace, or of a named one (`ip -n NAME`). */
export async function readLinks(netns: string | null, runner: ProcessRunner = systemRunner): Promise<LinkInfo[]> {
  const argv = netns === null ? ['ip', '-j', '-d', 'link', 'show'] : ['ip', '-n', netns, '-j', '-d', 'link', 'show'];
  const r = await runner.run(argv);
  if (r.missing) throw new MissingDependencyError('ip', 'iproute2');
  if (r.code !== 0) {
    if (netns !== null) {
      throw new CaptureError('NETNS_NOT_FOUND', `network namespace ${netns} does not exist`, 'list them with `ip netns list` (the lab\'s are ft-*; `flowtrace lab up` builds them)', { netns, stderr: r.stderr.trim() });
    }
    throw new CaptureError('LINKS_UNREADABLE', `could not list interfaces: ${r.stderr.trim().split('\n')[0] ?? ''}`, 'check that `ip -j link` works here', {});
  }
  return parseIpLinkJson(r.stdout);
}

/** index → name, the map that gives SLL2 packets their interface names. */
export function ifmapOf(links: readonly LinkInfo[]): Map<number, string> {
  return new Map(links.map((l) => [l.ifindex, l.name]));
}
