/**
 * ICMP destination unreachable codes → traceroute's flags and what they mean.
 * ICMPv4: RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1 (codes 13–15).
 * ICMPv6: RFC 4443 §3.1 (codes 0–6), §3.2 (packet too big).
 * Flags follow Linux traceroute(8): !H !N !P !F-<mtu> !S !X !V !C, !<code> otherwise.
 */

export interface UnreachableMeaning {
  flag: string;
  meaning: string;
}

const V4: Record<number, UnreachableMeaning> = {
  0: { flag: '!N', meaning: 'network unreachable: a router has no route to the destination network' },
  1: { flag: '!H', meaning: 'host unreachable: the last router cannot reach the host (no ARP/neighbour answer, or host down)' },
  2: { flag: '!P', meaning: 'protocol unreachable: the host does not speak this IP protocol' },
  4: { flag: '!F', meaning: 'fragmentation needed: the packet is too big for a link and DF is set' },
  5: { flag: '!S', meaning: 'source route failed' },
  6: { flag: '!N', meaning: 'destination network unknown' },
  7: { flag: '!H', meaning: 'destination host unknown' },
  8: { flag: '!N', meaning: 'source host isolated' },
  9: { flag: '!X', meaning: 'network administratively prohibited: a router or firewall rejects the traffic' },
  10: { flag: '!X', meaning: 'host administratively prohibited: a router or firewall rejects the traffic (iptables REJECT --reject-with icmp-host-prohibited)' },
  11: { flag: '!N', meaning: 'network unreachable for this type of service' },
  12: { flag: '!H', meaning: 'host unreachable for this type of service' },
  13: { flag: '!X', meaning: 'communication administratively prohibited: a router or firewall filters the traffic' },
  14: { flag: '!V', meaning: 'host precedence violation' },
  15: { flag: '!C', meaning: 'precedence cutoff in effect' },
};

const V6: Record<number, UnreachableMeaning> = {
  0: { flag: '!N', meaning: 'no route to destination: a router has no route to it' },
  1: { flag: '!X', meaning: 'communication administratively prohibited: a router or firewall rejects the traffic' },
  2: { flag: '!S', meaning: 'beyond scope of source address' },
  3: { flag: '!H', meaning: 'address unreachable: the last router cannot reach the host (no neighbour answer)' },
  5: { flag: '!X', meaning: 'source address failed ingress/egress policy' },
  6: { flag: '!X', meaning: 'reject route to destination' },
};

/** Port unreachable sent by someone other than the destination: a firewall's REJECT (its default reply). */
export const FOREIGN_PORT_UNREACHABLE: UnreachableMeaning = {
  flag: '!U',
  meaning: 'port unreachable sent by a router on the way, not by the destination: a firewall rejects the traffic (iptables REJECT default)',
};

export function unreachableMeaning(family: 4 | 6, code: number, mtu: number | null): UnreachableMeaning {
  const m = (family === 4 ? V4 : V6)[code];
  if (!m) return { flag: `!${code}`, meaning: `destination unreachable, code ${code}` };
  if (family === 4 && code === 4) return { flag: `!F-${mtu ?? 0}`, meaning: `${m.meaning} (next-hop MTU ${mtu ?? 'not given'})` };
  return m;
}

export function packetTooBig(mtu: number | null): UnreachableMeaning {
  return { flag: `!F-${mtu ?? 0}`, meaning: `packet too big: the next link's MTU is ${mtu ?? 'not given'}` };
}
