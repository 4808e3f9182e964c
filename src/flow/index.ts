/**
 * flow/: TCP connections, HTTP/1 exchanges, copies of one packet stitched across
 * interfaces through NAT, NAT mappings and named anomalies. The public surface.
 */
export * from './types.js';
export { createFlowAnalyzer, FLOW_DEFAULTS, MAX_INTERFACES, OTHER_INTERFACES, type FlowAnalyzer, type FlowOptions, type PacketWhere } from './analyzer.js';
export { analyzeCapture, type AnalyzeCaptureOptions, type CaptureAnalysis } from './file.js';
export { findExchange, selectRequest, requestMatcher, type ExchangeQuery, type RequestMatcher } from './select.js';
export { renderAnalysis, boundsSummary, type RenderOptions } from './render.js';
export { DEFAULT_MAX_MEMORY_MB, MIN_MAX_MEMORY_MB, flowBounds, type FlowBounds } from './bounds.js';
export { parseTraceId } from './http-exchanges.js';
