/**
 * Host facts: what the machine where the capture runs says about why a packet could stop —
 * read at the start and at the stop of a capture, in the host's network namespace and in
 * every container namespace behind a veth. Plain serialisable data (it travels in the
 * agent's `result`, and the agentless ssh path builds the same from the same commands).
 *
 * Missing values are explicit `null`s; what could not be read is said in `problems`
 * (one line each, with what to install or allow), never guessed.
 */

/** Which network namespace facts were read in. */
export interface NamespaceRef {
  /** `host`, or the container side: `container web (veth3f2a1b9)`, `net:[4026532281] (veth3f2a1b9)`. */
  label: string;
  role: 'host' | 'container';
  /** A path to enter it (`/proc/1234/ns/net`, `/run/netns/ft-container`); null: the reader's own namespace. */
  path: string | null;
  /** For a container namespace: the host-side veth that leads to it. */
  veth: string | null;
  /** The container's name when Docker says, else null. */
  container: string | null;
}

/** One interface (`ip -j -d addr show`). */
export interface LinkFacts {
  name: string;
  ifindex: number;
  /** `veth`, `bridge`, `vlan`, … or null for a plain device (ens5 on EC2, lo). */
  kind: string | null;
  /** The bridge it is a port of, or null. */
  master: string | null;
  /** ip link's operstate: UP, DOWN, LOWERLAYERDOWN, UNKNOWN, … */
  operstate: string;
  /** Administratively up and with a carrier (flags UP and LOWER_UP, or operstate UP/UNKNOWN). */
  up: boolean;
  mtu: number | null;
  mac: string | null;
  /** Global and site addresses with their prefix (`172.31.5.20/16`); link-local left out. */
  addresses: string[];
  /** For a veth: the peer's ifindex and namespace id (`link_index`, `link_netnsid`). */
  peerIfindex: number | null;
  peerNetnsId: number | null;
}

/** A route lookup as the kernel answers `ip -j route get TO [from FROM iif IIF]`. */
export interface RouteLookup {
  to: string;
  /** With `from` and `iif` the lookup is the one a forwarded packet gets (input route, rp_filter included). */
  from: string | null;
  iif: string | null;
  /**
   * `unicast` / `local` / `broadcast`: a route was found (dev, gateway);
   * `blackhole` (EINVAL), `unreachable` (EHOSTUNREACH), `prohibit` (EACCES), `no-route`
   * (ENETUNREACH), `rp-filter` (EXDEV: the reverse-path check failed), `error` (anything else).
   */
  result: 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit' | 'no-route' | 'rp-filter' | 'error';
  dev: string | null;
  gateway: string | null;
  prefsrc: string | null;
  /** The kernel's words on failure (`RTNETLINK answers: No route to host`), else null. */
  error: string | null;
  /** When the lookup failed: the route of the routing tables that covers `to` (`blackhole 172.31.16.10`), if any. */
  matchedRoute: string | null;
}

/** A neighbour entry (`ip -j neigh show`). */
export interface NeighbourFacts {
  address: string;
  dev: string;
  lladdr: string | null;
  /** REACHABLE, STALE, DELAY, PROBE, FAILED, INCOMPLETE, PERMANENT, NOARP … */
  state: string[];
}

/** A listening TCP socket (`ss -ltnHp`). */
export interface ListenerFacts {
  address: string;
  port: number;
  /** `node (pid 3347)`, or null when ss does not say. */
  process: string | null;
}

/** A netfilter rule or chain policy, with its packet counter at stop and how much it rose since start. */
export interface NetfilterFacts {
  source: 'iptables' | 'ip6tables' | 'nft';
  /** nft family (`ip`, `ip6`, `inet`, `bridge`, `arp`, `netdev`); `ip`/`ip6` for iptables/ip6tables. */
  family: string;
  table: string;
  chain: string;
  kind: 'rule' | 'policy';
  /** As a person would type it: `-A FORWARD -i docker0 -o ens5 -j DROP`, `:FORWARD DROP`, or nft's rule text. */
  text: string;
  verdict: 'drop' | 'reject' | 'accept' | 'return' | 'jump' | 'goto' | 'dnat' | 'snat' | 'masquerade' | 'other';
  /** The jump/goto target chain or the extension target's name (`DOCKER-USER`, `LOG`), else null. */
  target: string | null;
  /** Netfilter hook(s) the chain is reached from (`forward`, `input`, …); empty when unknown. */
  hooks: string[];
  /** What the rule matches that places it on a path (null: not matched on). */
  match: {
    inInterface: string | null;
    inNegated: boolean;
    outInterface: string | null;
    outNegated: boolean;
    protocol: string | null;
    source: string | null;
    destination: string | null;
    /**
     * `80`, `1024:65535`, `80,443` as iptables writes them (nft's `{ 22, 80 }` and `1000-2000`
     * are given in the same syntax: `22,80`, `1000:2000`).
     */
    sourcePorts: string | null;
    destinationPorts: string | null;
    /**
     * `!` before the match (`! -s 10.3.0.0/16`, nft `!=`). Always set by host/'s parsers;
     * optional only so that hand-written facts need not spell them (absent = false).
     */
    protocolNegated?: boolean;
    sourceNegated?: boolean;
    destinationNegated?: boolean;
    sourcePortsNegated?: boolean;
    destinationPortsNegated?: boolean;
  };
  /** Counter at stop; null when the rule has none (an nft rule without `counter`). */
  packets: number | null;
  bytes: number | null;
  /**
   * Rise since the start snapshot; null when unknown (no counter, or the rule was not there at
   * start, or — HostFacts.startedAt null — there was one reading only: `packets` is then the
   * total since the counters were last zeroed, not what this request did).
   */
  packetsDelta: number | null;
}

/** A kernel counter that changed during the capture (`/proc/net/netstat`, `/proc/net/snmp`). */
export interface CounterFacts {
  /** `TcpExt.ListenOverflows`, `IpExt.InNoRoutes`, `Ip.InDiscards`, `TcpExt.IPReversePathFilter`… */
  name: string;
  stop: number;
  delta: number;
}

export interface ConntrackFacts {
  count: number | null;
  max: number | null;
  /** Sums over CPUs of /proc/net/stat/nf_conntrack at stop: found, invalid, insert_failed, drop, early_drop, error… */
  stats: Record<string, number>;
  /** Rise of each stat since start (only those that rose). */
  delta: Record<string, number>;
}

/** The kinds of facts of a namespace (NamespaceFacts' fields). */
export type FactKind = 'links' | 'routes' | 'neighbours' | 'sysctls' | 'listeners' | 'netfilter' | 'counters' | 'conntrack' | 'dnat';

/** Everything read in one namespace. */
export interface NamespaceFacts {
  ns: NamespaceRef;
  /**
   * Kinds of facts that were not read here at all (`flowtrace explain` has only what was
   * pasted): their empty lists are no evidence that nothing is there, and causes never rest on
   * them. Absent: every kind was read (the agent reads them all; a failed read is in `problems`).
   */
  unread?: FactKind[];
  links: LinkFacts[];
  routes: RouteLookup[];
  neighbours: NeighbourFacts[];
  /** `net.ipv4.ip_forward`, `net.ipv4.conf.all.rp_filter`, `net.ipv4.conf.<if>.rp_filter`, … as sysctl names them. */
  sysctls: Record<string, string>;
  listeners: ListenerFacts[];
  /**
   * DROP/REJECT rules and chain policies (always), plus every other rule whose counter rose
   * during the capture — bounded (HOST_FACTS_LIMITS.maxRules), the rest counted in `rulesNotListed`.
   */
  netfilter: NetfilterFacts[];
  rulesNotListed: number;
  /** Kernel counters that rose during the capture. */
  counters: CounterFacts[];
  conntrack: ConntrackFacts | null;
  /** DNAT rules of the nat table (`-A DOCKER ! -i docker0 -p tcp -m tcp --dport 80 -j DNAT --to-destination 172.17.0.2:8080`): text and what they map. */
  dnat: Array<{ text: string; protocol: string | null; ports: string | null; toAddress: string; toPorts: string | null; inInterface: string | null; inNegated: boolean }>;
}

export interface HostFacts {
  /**
   * Wall-clock epoch ms of the two snapshots (start null when only the stop was read: counters
   * are then totals, and a DROP rule's count is not known to be this request's).
   */
  startedAt: number | null;
  stoppedAt: number;
  /** The host first, then each container namespace reached through a veth. */
  namespaces: NamespaceFacts[];
  /** What could not be read, one line each with the fix (`nft: not installed (apt-get install nftables)`). */
  problems: string[];
}

/** A route lookup to make at stop (the reply destinations are known only then). */
export interface RouteQuery {
  /** `host`, or a container namespace's label. */
  namespace: string;
  to: string;
  from?: string | null;
  iif?: string | null;
}
