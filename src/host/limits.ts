/** Every bound of host facts in one place (what is read is bounded, what is cut is counted or said). */
export const HOST_FACTS_LIMITS = {
  /** Netfilter rules and policies listed per namespace (the rest counted in `rulesNotListed`). */
  maxRules: 400,
  /** Interfaces listed per namespace (and asked about in sysctl). */
  maxLinks: 256,
  /** Neighbour entries listed per namespace. */
  maxNeighbours: 256,
  /** Listening sockets listed per namespace. */
  maxListeners: 256,
  /** Container namespaces read besides the host's (in veth order). */
  maxContainerNamespaces: 16,
  /** Route lookups made per stop (all namespaces together). */
  maxRouteQueries: 32,
  /** Bound of each command (iptables-save, nft, ip, ss… answer in milliseconds). */
  commandTimeoutMs: 3000,
} as const;
