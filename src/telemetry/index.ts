/** telemetry/: follow results where teams look — OpenTelemetry traces over OTLP/HTTP, Prometheus metrics. The public surface. */
export { recordTrace, xrayTraceId, SPAN_NAMES, TRACE_ID_HEADER, type RecordedTrace } from './spans.js';
export { OtlpTraces, otlpTracesUrl, OTLP_TRACES_PATH, OTLP_TIMEOUT_MS, TRACER_NAME, type OtlpTracesOptions, type OtlpExportOutcome } from './otlp.js';
export { WatchMetrics, DURATION_BUCKETS_S, NO_TARGET, type WatchMetricsOptions } from './metrics.js';
export { serveMetrics, parseListenAddress, DEFAULT_METRICS_PORT, type ListenAddress, type MetricsServer } from './serve.js';
