/** The DNS layer's public surface: the stub resolver, its result types, address classification. */
export { resolve, normaliseName, cnameChain, reverseName, DEFAULT_TYPES, MAX_QUERY_TIMEOUT_MS } from './resolve.js';
export type { ResolveOptions } from './resolve.js';
export { classifyAddress, findLoadBalancer } from './classify.js';
export { parseResolvConf, readResolvConf, parseServerSpec, formatServer, DNS_PORT } from './resolvconf.js';
export type { ResolverConfig } from './resolvconf.js';
export { socketTransport, TransportFailure } from './transport.js';
export type { DnsTransport, TransportFailureKind } from './transport.js';
export { buildQuery, decodeMessage, QUERY_TYPES } from './records.js';
export { malformation } from './wire.js';
export { renderDnsResult, renderDnsShort } from './format.js';
export type * from './types.js';
