/**
 * The result of `resolve()`: a plain serialisable object (globalping style). Every result
 * carries a `status` and, on failure, a `failureSource`; values that could not be known are
 * explicit `null`s.
 */

/** How the lookup ended, over all the record types asked for. */
export type DnsStatus =
  | 'ok' //          at least one requested record came back
  | 'nxdomain' //    the name does not exist (RCODE 3)
  | 'nodata' //      the name exists but has no record of the requested types
  | 'servfail' //    the resolver could not get an answer (RCODE 2)
  | 'refused' //     the resolver will not answer us (RCODE 5)
  | 'timeout' //     no answer within the timeout, every attempt
  | 'unreachable' // the resolver's port is closed (ICMP port unreachable) or no route to it
  | 'error'; //      anything else: malformed answer, other RCODE, local socket error

/** Who is to blame: the name's own data, the resolver, or this machine. */
export type DnsFailureSource = 'resolver' | 'target' | 'local' | null;

export type DnsTransportKind = 'udp' | 'tcp';

export interface DnsServer {
  address: string;
  port: number;
}

export interface DnsFlags {
  aa: boolean;
  tc: boolean;
  rd: boolean;
  ra: boolean;
  ad: boolean;
  cd: boolean;
}

/** One resource record, with its data rendered as text the way dig shows it. */
export interface DnsRecord {
  name: string;
  type: string;
  ttl: number;
  data: string;
}

/** One query (one record type) and its answer. */
export interface DnsQueryResult {
  type: string;
  status: DnsStatus;
  failureSource: DnsFailureSource;
  /** NOERROR, NXDOMAIN, SERVFAIL, REFUSED, … or null when nothing came back. */
  rcode: string | null;
  flags: DnsFlags | null;
  /** The server that answered (or the last one tried). */
  server: DnsServer | null;
  transport: DnsTransportKind | null;
  /** True when the UDP answer was truncated and the query was repeated over TCP. */
  retriedOverTcp: boolean;
  answers: DnsRecord[];
  authorities: DnsRecord[];
  /** Monotonic time from the first packet sent to the answer used (all attempts). */
  elapsedMs: number;
  attempts: number;
  error: DnsProblem | null;
}

export interface DnsProblem {
  code: string;
  message: string;
  hint: string;
}

export type AddressKind =
  | 'private'
  | 'loopback'
  | 'link-local'
  | 'public'
  | 'documentation'
  | 'multicast'
  | 'reserved'
  | 'unspecified';

export interface AddressClassification {
  address: string;
  family: 4 | 6;
  kind: AddressKind;
  /** The range it falls in, e.g. `10.0.0.0/8 (RFC 1918)`; null for public addresses. */
  range: string | null;
}

/** A load balancer / CDN recognised by a name in the CNAME chain. */
export interface LoadBalancerHint {
  name: string;
  provider: string;
  product: string;
  region: string | null;
}

export interface DnsResult {
  /** The name asked for, without the trailing dot. */
  name: string;
  types: string[];
  status: DnsStatus;
  failureSource: DnsFailureSource;
  /** The rcode of the first query that decided the status (NOERROR when ok). */
  rcode: string | null;
  flags: DnsFlags | null;
  server: DnsServer | null;
  transport: DnsTransportKind | null;
  /** Monotonic milliseconds for the whole lookup (queries run in parallel). */
  elapsedMs: number;
  queries: DnsQueryResult[];
  /** Every answer record of every query, in order, without duplicates. */
  answers: DnsRecord[];
  /** Names from the question to the last CNAME target: [name, target1, target2, …]. */
  cnameChain: string[];
  /** A and AAAA addresses found, IPv4 first. */
  addresses: string[];
  classification: AddressClassification[];
  loadBalancer: LoadBalancerHint | null;
  /** Sentences a person reads: what the addresses are, what several addresses mean. */
  notes: string[];
  error: DnsProblem | null;
}
