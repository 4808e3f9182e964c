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

/**
 * `--request ID`: a trace id (`Root=1-…`, `1-…-…`), else an IP address (X-Forwarded-For),
 * else a path (`/…`). Returns the matches and what the ID was taken as.
 */
export function selectRequest(analysis: FlowAnalysis, id: string): { by: 'traceId' | 'clientAddress' | 'path'; exchanges: HttpExchange[] } {
  if (/^(root=|self=)?1-[0-9a-f]{8}-[0-9a-f]{24}/i.test(id) || /^root=/i.test(id)) {
    return { by: 'traceId', exchanges: findExchange(analysis, { traceId: id }) };
  }
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(id) || (id.includes(':') && /^[0-9a-f:.]+$/i.test(id))) {
    return { by: 'clientAddress', exchanges: findExchange(analysis, { clientAddress: id }) };
  }
  if (id.startsWith('/')) return { by: 'path', exchanges: findExchange(analysis, { path: id }) };
  // Anything else: a trace id without the usual shape (a custom id), then a path.
  const byTrace = findExchange(analysis, { traceId: id });
  return byTrace.length > 0 ? { by: 'traceId', exchanges: byTrace } : { by: 'path', exchanges: findExchange(analysis, { path: id }) };
}
