/**
 * Finding one request's story in an analysis: by its X-Amzn-Trace-Id Root (the id a client
 * sends and an ALB keeps), by the client address an ALB put in X-Forwarded-For, or by path.
 */
import type { FlowAnalysis, HttpExchange } from './types.js';

export interface ExchangeQuery {
  traceId?: string;
  clientAddress?: string;
  path?: string;
}

/** Exchanges matching every field given in the query. */
export function findExchange(analysis: FlowAnalysis, query: ExchangeQuery): HttpExchange[] {
  return analysis.exchanges.filter((ex) => {
    const req = ex.request;
    if (query.traceId !== undefined) {
      const id = query.traceId.replace(/^Root=/i, '');
      if (!req?.traceId) return false;
      const t = req.traceId;
      if (t.root !== id && t.self !== id && t.raw !== query.traceId) return false;
    }
    if (query.clientAddress !== undefined) {
      if (!req?.xForwardedFor) return false;
      const hops = req.xForwardedFor.split(',').map((s) => s.trim());
      if (!hops.includes(query.clientAddress)) return false;
    }
    if (query.path !== undefined) {
      if (!req) return false;
      const target = req.target.replace(/^[a-z]+:\/\/[^/]+/i, '');
      const pathOnly = target.split('?')[0];
      if (target !== query.path && pathOnly !== query.path) return false;
    }
    return true;
  });
}

/** What a `--request ID` is taken as, and the test for one exchange. */
export interface RequestMatcher {
  by: 'traceId' | 'clientAddress' | 'path';
  matches(exchange: HttpExchange): boolean;
}

function matcher(query: ExchangeQuery): (ex: HttpExchange) => boolean {
  return (ex) => findExchange({ exchanges: [ex] } as FlowAnalysis, query).length === 1;
}

/**
 * `--request ID`: a trace id (`Root=1-…`, `1-…-…`), else an IP address (X-Forwarded-For),
 * else a path (`/…`); anything else is tried as a custom trace id.
 */
export function requestMatcher(id: string): RequestMatcher {
  if (/^(root=|self=)?1-[0-9a-f]{8}-[0-9a-f]{24}/i.test(id) || /^root=/i.test(id)) return { by: 'traceId', matches: matcher({ traceId: id }) };
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(id) || (id.includes(':') && /^[0-9a-f:.]+$/i.test(id))) return { by: 'clientAddress', matches: matcher({ clientAddress: id }) };
  if (id.startsWith('/')) return { by: 'path', matches: matcher({ path: id }) };
  const byTrace = matcher({ traceId: id });
  const byPath = matcher({ path: id });
  return { by: 'traceId', matches: (ex) => byTrace(ex) || byPath(ex) };
}

/** The exchanges of an analysis that `--request ID` selects, and what the ID was taken as. */
export function selectRequest(analysis: FlowAnalysis, id: string): { by: RequestMatcher['by']; exchanges: HttpExchange[] } {
  const m = requestMatcher(id);
  return { by: m.by, exchanges: analysis.exchanges.filter((ex) => m.matches(ex)) };
}
