/**
 * The result of `httpProbe()`: a plain serialisable object. `status` says whether an HTTP
 * response came back (whatever its status code); on failure `error` names the phase it failed
 * in and `failureSource` who is to blame. Values never reached are explicit `null`s.
 */

/** The phases of one request, in order (curl's -w names in comments). */
export type HttpPhase =
  | 'dns' //        name → address (time_namelookup)
  | 'connect' //    TCP handshake (time_connect)
  | 'tls' //        TLS handshake (time_appconnect)
  | 'send' //       writing the request (time_pretransfer)
  | 'first_byte' // waiting for the server (time_starttransfer)
  | 'download'; //  reading the response to its end (time_total)

export type HttpFailureSource = 'target' | 'resolver' | 'local' | null;

export interface HttpProblem {
  /** Stable code: HTTP_DNS, HTTP_CONNECT_REFUSED, HTTP_TIMEOUT, TLS_UNKNOWN_CA, … */
  code: string;
  phase: HttpPhase;
  message: string;
  hint: string;
  /** The errno / OpenSSL / llhttp code underneath, when there was one. */
  cause: string | null;
}

/**
 * Cumulative milliseconds from the start of the probe, on a monotonic clock, like curl's -w
 * variables; null for a phase not reached (appconnect is null for plain HTTP).
 */
export interface HttpTimings {
  namelookupMs: number | null;
  connectMs: number | null;
  appconnectMs: number | null;
  pretransferMs: number | null;
  starttransferMs: number | null;
  /** When the response head was parsed (after the first byte, usually the same packet). */
  headersMs: number | null;
  totalMs: number;
}

/** Durations of each phase (differences of the timings), null when not reached. */
export interface HttpPhaseDurations {
  dnsMs: number | null;
  connectMs: number | null;
  tlsMs: number | null;
  sendMs: number | null;
  waitMs: number | null;
  downloadMs: number | null;
  /**
   * Time spent on addresses that did not connect before the one that did (or before giving
   * up), so the phases still add up to the total; 0 when the first address connected, null
   * when no connection was tried.
   */
  failedConnectsMs: number | null;
}

/** How one TCP connect to one address ended (curl -v: "Trying ADDR:PORT..."). */
export type HttpConnectOutcome =
  | 'connected'
  | 'refused' //     RST to the SYN (ECONNREFUSED)
  | 'unreachable' // ICMP unreachable / no route (EHOSTUNREACH, ENETUNREACH…)
  | 'timeout' //     no answer within this address's share of the deadline
  | 'aborted' //     the probe was cancelled while it ran
  | 'abandoned' //   the other address family connected first (happy eyeballs)
  | 'error'; //      another local or socket error (its errno in `cause`)

export interface HttpConnectAttempt {
  address: string;
  port: number;
  family: 4 | 6;
  outcome: HttpConnectOutcome;
  /** The errno underneath (ECONNREFUSED, EHOSTUNREACH…); null when connected or timed out. */
  cause: string | null;
  /** When the attempt started and how long it took, ms on the probe's monotonic clock. */
  startMs: number;
  durationMs: number;
}

/**
 * Happy eyeballs as curl runs it (RFC 8305's idea, curl's rule): the family of the first
 * address is tried first; the other family starts after `delayMs` (curl's
 * --happy-eyeballs-timeout-ms, 200 by default) or as soon as the first family has failed;
 * the first connection made wins and the other attempts are abandoned.
 */
export interface HttpHappyEyeballs {
  firstFamily: 4 | 6;
  delayMs: number;
  /** When the other family's first attempt started (ms on the probe's clock); null when it never did. */
  secondStartMs: number | null;
  /** The family of the connection used; null when none connected. */
  familyUsed: 4 | 6 | null;
  /**
   * Time the first family cost the connection used: 0 when it connected, else from the end
   * of the name lookup to the start of the other family's winning attempt. Null when none connected.
   */
  lostMs: number | null;
}

export interface HttpEndpoint {
  address: string;
  port: number;
  family: 4 | 6;
}

export interface HttpTlsInfo {
  protocol: string | null;
  cipher: string | null;
  alpn: string | null;
  /** Whether the chain and name verified (with the CA file when given). */
  authorized: boolean;
  /** OpenSSL / Node code when it did not (UNABLE_TO_VERIFY_LEAF_SIGNATURE, …). */
  authorizationError: string | null;
  subject: string | null;
  issuer: string | null;
  subjectAltNames: string[];
  validFrom: string | null;
  validTo: string | null;
  fingerprint256: string | null;
}

export interface HttpHeader {
  name: string;
  value: string;
}

export interface HttpResult {
  url: string;
  method: string;
  status: 'ok' | 'error';
  failureSource: HttpFailureSource;
  /** The X-Amzn-Trace-Id value sent, `Root=1-<8 hex epoch>-<24 hex>`. */
  traceId: string;
  /** How the address was found: an IP literal in the URL, a --resolve entry, or DNS. */
  resolvedBy: 'literal' | 'resolve-option' | 'dns';
  /** Every address the name (or --resolve) gave, in the order they are tried. */
  addresses: string[];
  /**
   * Each TCP connect in order, like curl: when one address is refused, unreachable or does
   * not answer in time, the next is tried; the last one is the connection used (if any).
   * Empty when the name did not resolve.
   */
  connectAttempts: HttpConnectAttempt[];
  /** Set when the addresses had both families and happy eyeballs raced them; null otherwise. */
  happyEyeballs: HttpHappyEyeballs | null;
  remote: HttpEndpoint | null;
  local: HttpEndpoint | null;
  httpVersion: string | null;
  statusCode: number | null;
  reason: string | null;
  /** Request headers as sent (credentials redacted). */
  requestHeaders: HttpHeader[];
  /** Request body bytes sent (curl's size_upload); 0 without a body. */
  requestBodyBytes: number;
  /** Response headers in order (Set-Cookie, Authorization, Cookie values redacted). */
  headers: HttpHeader[];
  tls: HttpTlsInfo | null;
  timings: HttpTimings;
  phases: HttpPhaseDurations;
  /** Body bytes received (after transfer decoding), and the first of them as text. */
  bodyBytes: number;
  bodyHead: string;
  bodyTruncated: boolean;
  error: HttpProblem | null;
}
