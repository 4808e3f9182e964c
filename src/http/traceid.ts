/**
 * The X-Amzn-Trace-Id a client sends so the request can be found on the server side: an ALB
 * keeps a client's Root and adds `Self=` (AWS ELB docs, "Request tracing for your Application
 * Load Balancer"). Format: `Root=1-<8 hex digits of epoch seconds>-<24 hex digits>`.
 */
import { randomBytes } from 'node:crypto';
import { UsageError } from '../errors.js';

export const TRACE_ID_HEADER = 'X-Amzn-Trace-Id';
const ROOT = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/i;

/** A fresh trace id value: `Root=1-<hex epoch seconds>-<24 random hex digits>`. */
export function newTraceId(epochSeconds = Math.floor(Date.now() / 1000)): string {
  return `Root=1-${epochSeconds.toString(16).padStart(8, '0')}-${randomBytes(12).toString('hex')}`;
}

/**
 * Accepts `1-…-…`, `Root=1-…-…` or a full header value with more fields (`Root=…;Parent=…`)
 * and returns the header value to send. Throws UsageError otherwise.
 */
export function normaliseTraceId(value: string): string {
  const text = value.trim();
  if (ROOT.test(text)) return `Root=${text}`;
  const fields = text.split(';').map((f) => f.trim());
  const root = fields.find((f) => /^Root=/i.test(f));
  if (root !== undefined && ROOT.test(root.slice(5)) && fields.every((f) => /^[A-Za-z]+=[^;\s]+$/.test(f))) return fields.join(';');
  throw new UsageError(`bad trace id '${value}'`, 'give Root=1-<8 hex epoch seconds>-<24 hex>, e.g. Root=1-67891233-abcdef012345678912345678');
}

/** The Root part (`1-…-…`) of a trace id value, or null. */
export function traceRoot(value: string): string | null {
  const m = /(?:^|;)\s*Root=(1-[0-9a-f]{8}-[0-9a-f]{24})/i.exec(value);
  return m ? m[1] : null;
}
