/**
 * host/: facts read on the server that explain why packets stop — netfilter rules and their
 * counters, route lookups, neighbours, sysctls, listeners, kernel and conntrack counters —
 * in the host's namespace and in each container namespace behind a veth. The public surface.
 */
export type {
  NamespaceRef, LinkFacts, RouteLookup, NeighbourFacts, ListenerFacts, NetfilterFacts, CounterFacts, ConntrackFacts,
  NamespaceFacts, HostFacts, RouteQuery, FactKind,
} from './types.js';
export { HOST_FACTS_LIMITS } from './limits.js';
export { createHostFacts, type HostFactsOptions, type HostFactsSession } from './session.js';
export { parseIptablesSave, iptablesSaveTables, stripIptablesCounters, emptyMatch } from './iptables.js';
export { parseNftRuleset, type NftParseOptions } from './nft.js';
export { parseRouteGet, parseRouteTable, parseRouteTableText, lookupInTable, coveringRoute, formatRoute, type RouteEntry } from './routes.js';
export { parseAddrJson, parseNeighJson } from './links.js';
export { parseIpLinksText, parseNeighText, inferLinkKinds } from './ip-text.js';
export { iptablesListToSave, type IptablesListing } from './iptables-list.js';
export { parseSs } from './listeners.js';
export { parseProcNetstat, parseConntrackStat, parseSysctl, interfaceSysctlKey } from './kernel.js';
export { netfilterDeltas, selectNetfilter, risenCounters, risenStats } from './deltas.js';
export { reachingHooks, HOOK_ORDER } from './hooks.js';
