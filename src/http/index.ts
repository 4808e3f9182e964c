/** The HTTP layer's public surface: the timed probe, its result types, trace ids. */
export { httpProbe, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS, MAX_RESPONSE_HEAD_BYTES, USER_AGENT } from './probe.js';
export type { HttpProbeOptions, LookupFn } from './probe.js';
export { newTraceId, normaliseTraceId, traceRoot, TRACE_ID_HEADER } from './traceid.js';
export { parseResolveSpec, parseHeader, redactHeader, parseTarget, buildRequestBody } from './options.js';
export type { HeaderSpec } from './options.js';
export { renderHttpResult } from './format.js';
export type { RenderHttpOptions } from './format.js';
export type * from './types.js';
export { parseWriteOut, renderWriteOut, WRITE_OUT_VARIABLES } from './writeout.js';
export type { WriteOut, WriteOutContext } from './writeout.js';
