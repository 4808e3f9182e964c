/**
 * Sending follow results as traces to an OpenTelemetry collector (or anything that takes
 * OTLP/HTTP: Jaeger, Tempo, Honeycomb…) through the official SDK and its OTLP/HTTP exporter
 * (JSON encoding). One provider per `OtlpTraces`; each `export(result)` records the result's
 * spans (spans.ts) and flushes them as one request, so a run's trace leaves before the next
 * run starts and its success or failure is known.
 *
 * The exporter reads the usual OTEL_EXPORTER_OTLP_HEADERS / _TRACES_HEADERS (auth tokens).
 */
import os from 'node:os';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { FollowResult } from '../follow/index.js';
import { UsageError } from '../errors.js';
import { recordTrace } from './spans.js';

/** The OTLP/HTTP path of traces (appended to a collector's base URL). */
export const OTLP_TRACES_PATH = '/v1/traces';
/** How long one export may take before it counts as failed. */
export const OTLP_TIMEOUT_MS = 5000;
/** The instrumentation scope's name. */
export const TRACER_NAME = 'flowtrace';

type ExportResult = Parameters<Parameters<SpanExporter['export']>[1]>[0];

/**
 * The traces URL from what the user gave: a collector's base (`http://collector:4318`, the
 * path `/v1/traces` is added, as OTEL_EXPORTER_OTLP_ENDPOINT does) or a full URL with a path
 * (used as it is, as OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
 */
export function otlpTracesUrl(text: string): string {
  let u: URL;
  try { u = new URL(text); } catch {
    throw new UsageError(`bad --otlp URL '${text}'`, 'the collector\'s OTLP/HTTP endpoint, e.g. --otlp http://localhost:4318 (/v1/traces is added) or --otlp https://otlp.example.com/v1/traces');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`--otlp takes an http:// or https:// URL, not '${text}'`, 'OTLP/HTTP, e.g. --otlp http://localhost:4318 (gRPC on 4317 is not spoken)');
  if (u.pathname === '/' || u.pathname === '') u.pathname = OTLP_TRACES_PATH;
  return u.href;
}

export interface OtlpExportOutcome {
  ok: boolean;
  traceId: string;
  spans: number;
  /** Why the export failed, one line; null when it worked. */
  error: string | null;
}

/** Passes spans on to the OTLP exporter and keeps the result of the last export. */
class RecordingExporter implements SpanExporter {
  last: ExportResult | null = null;
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => { this.last = result; done(result); });
  }
  shutdown(): Promise<void> { return this.inner.shutdown(); }
  forceFlush(): Promise<void> { return this.inner.forceFlush?.() ?? Promise.resolve(); }
}

export interface OtlpTracesOptions {
  /** The traces URL (otlpTracesUrl). */
  url: string;
  version?: string;
  timeoutMs?: number;
  /** Extra resource attributes (e.g. the vantage point's name). */
  resource?: Record<string, string>;
}

export class OtlpTraces {
  readonly url: string;
  private readonly exporter: RecordingExporter;
  private readonly provider: BasicTracerProvider;

  constructor(options: OtlpTracesOptions) {
    this.url = options.url;
    this.exporter = new RecordingExporter(new OTLPTraceExporter({ url: options.url, timeoutMillis: options.timeoutMs ?? OTLP_TIMEOUT_MS }));
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({
        [ATTR_SERVICE_NAME]: 'flowtrace', [ATTR_SERVICE_VERSION]: options.version ?? '0.1.0',
        // The vantage point: where the request was sent from (several watchers, one collector).
        'host.name': os.hostname(),
        ...options.resource,
      }),
      // Flushed by export() after each result: the schedule never fires on its own.
      spanProcessors: [new BatchSpanProcessor(this.exporter, { maxQueueSize: 4096, maxExportBatchSize: 4096, scheduledDelayMillis: 3_600_000 })],
    });
  }

  /** Records `result` as one trace and sends it; resolves with what the collector said. */
  async export(result: FollowResult): Promise<OtlpExportOutcome> {
    const recorded = recordTrace(this.provider.getTracer(TRACER_NAME, result.tool.version), result);
    this.exporter.last = null;
    // A failed export is in `last`; forceFlush may also reject with it.
    await this.provider.forceFlush().catch(() => {});
    const last = this.exporter.last as ExportResult | null;
    // ExportResultCode.SUCCESS is 0 (@opentelemetry/core).
    const ok = last !== null && last.code === 0;
    const error = ok ? null : last?.error ? oneLine(last.error) : 'the exporter did not send the trace';
    return { ok, traceId: recorded.traceId, spans: recorded.spans, error };
  }

  /** Ends the provider; whatever is still queued is sent first (bounded by the exporter's timeout). */
  async shutdown(): Promise<void> {
    await this.provider.shutdown().catch(() => {});
  }
}

function oneLine(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  return `${err.message.split('\n')[0]}${code && !err.message.includes(code) ? ` (${code})` : ''}`;
}
