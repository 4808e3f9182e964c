/**
 * One line of an Application Load Balancer's access log, in AWS's documented format
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html#access-log-entry-format).
 *
 * One record type for both sides: the lab's ALB node writes `formatAccessLogLine(record)`,
 * readers (`follow --alb-log`, `flowtrace lab log`, tests) get `parseAccessLogLine(line)`.
 * The pair is exact: `formatAccessLogLine(parseAccessLogLine(line)) === line` for every line
 * in this layout (30 fields, processing times with 3 decimals).
 *
 * Quoting, as the ALB writes it: a quoted field is `"-"` when empty, and a `"` inside it
 * is written `\"`; nothing else is escaped. So every `"` inside a quoted value follows a
 * backslash, and the one ambiguity is a value that ends in a backslash (`"a\"`): the
 * parser reads `\"` as a quote in the value first and, when the rest of the line then
 * does not fit the layout, as a backslash that ends the value.
 */
export interface AccessLogRecord {
  /** http | https | h2 | grpcs | ws | wss. */
  type: string;
  /** When the response was sent (ISO 8601, microseconds). */
  time: string;
  /** `app/<name>/<16 hex>`. */
  elb: string;
  /** `ip:port` of the client. */
  client: string;
  /** `ip:port`, or null when the request was not sent to a target (`-`). */
  target: string | null;
  /** Seconds; -1 when the request was not dispatched (the next two: no answer). */
  requestProcessingTime: number;
  targetProcessingTime: number;
  responseProcessingTime: number;
  elbStatusCode: number | null;
  targetStatusCode: number | null;
  receivedBytes: number;
  sentBytes: number;
  /** `METHOD scheme://host:port/path HTTP/x.y`. */
  request: string;
  userAgent: string | null;
  sslCipher: string | null;
  sslProtocol: string | null;
  targetGroupArn: string | null;
  traceId: string | null;
  /** The TLS SNI. */
  domainName: string | null;
  chosenCertArn: string | null;
  /** `0` for the default rule, `-1` when no rule matched. */
  matchedRulePriority: string;
  requestCreationTime: string;
  actionsExecuted: string | null;
  redirectUrl: string | null;
  errorReason: string | null;
  targetPortList: string | null;
  targetStatusCodeList: string | null;
  classification: string | null;
  classificationReason: string | null;
  connTraceId: string | null;
  /** Which ALB node wrote it (not part of the line). */
  node: string;
}

/** Fields of a line, in AWS's documented order. */
const FIELD_COUNT = 30;
/** Lines from before conn_trace_id was added have 29 fields. */
const MIN_FIELD_COUNT = 29;
/** The fields written in double quotes (by position). */
const QUOTED = new Set([12, 13, 17, 18, 19, 22, 23, 24, 25, 26, 27, 28]);
/**
 * Quoted fields that may also come bare: AWS's page printed target:port_list and
 * target_status_code_list unquoted in its examples for years (`… "-" 10.0.0.1:80 200 "-" "-"`).
 */
const BARE_TOO = new Set([25, 26]);
/** Bound on the backtracking over `\"` (only a value ending in a backslash needs any). */
const MAX_PARSE_STEPS = 10_000;

/** `Date` → `2026-11-23T19:49:14.686000Z`: the log's times (microseconds; ours end in 000). */
export function accessLogTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function quoted(v: string | null): string {
  return v === null || v === '' ? '"-"' : `"${v.replace(/"/g, '\\"')}"`;
}
function bare(v: string | null): string {
  return v === null || v === '' ? '-' : v;
}
function seconds(v: number): string {
  return v < 0 ? '-1' : v.toFixed(3);
}
function statusCode(v: number | null): string {
  return v === null ? '-' : String(v);
}

/** One line in the ALB access-log format (no line feed). `node` is not part of it. */
export function formatAccessLogLine(r: AccessLogRecord): string {
  return [
    r.type, r.time, r.elb, r.client, bare(r.target),
    seconds(r.requestProcessingTime), seconds(r.targetProcessingTime), seconds(r.responseProcessingTime),
    statusCode(r.elbStatusCode), statusCode(r.targetStatusCode), String(r.receivedBytes), String(r.sentBytes),
    quoted(r.request), quoted(r.userAgent), bare(r.sslCipher), bare(r.sslProtocol), bare(r.targetGroupArn),
    quoted(r.traceId), quoted(r.domainName), quoted(r.chosenCertArn), r.matchedRulePriority, r.requestCreationTime,
    quoted(r.actionsExecuted), quoted(r.redirectUrl), quoted(r.errorReason), quoted(r.targetPortList),
    quoted(r.targetStatusCodeList), quoted(r.classification), quoted(r.classificationReason), bare(r.connTraceId),
  ].join(' ');
}

/**
 * Splits a line into its fields by the layout (which field is quoted), undoing the `\"`
 * escape. Fields are separated by one space; a bare field has no space or quote in it;
 * text after the 30th field (fields AWS may add later) is ignored. Null when the line
 * does not fit the layout.
 */
function splitFields(line: string): string[] | null {
  const fields: string[] = [];
  let steps = 0;
  // Depth-first: field `index` starts at `pos`; true when the rest of the line fits.
  const fieldAt = (pos: number, index: number): boolean => {
    if (++steps > MAX_PARSE_STEPS) return false;
    if (pos >= line.length) return index >= MIN_FIELD_COUNT;
    if (index === FIELD_COUNT) return true;
    if (!QUOTED.has(index)) {
      const space = line.indexOf(' ', pos);
      const end = space === -1 ? line.length : space;
      if (end === pos || line.slice(pos, end).includes('"')) return false;
      fields.push(line.slice(pos, end));
      if (next(end, index)) return true;
      fields.pop();
      return false;
    }
    if (line[pos] !== '"') {
      if (!BARE_TOO.has(index)) return false;
      const space = line.indexOf(' ', pos);
      const end = space === -1 ? line.length : space;
      if (end === pos || line.slice(pos, end).includes('"')) return false;
      fields.push(line.slice(pos, end));
      if (next(end, index)) return true;
      fields.pop();
      return false;
    }
    // Where the value may end: each `\"` followed by a space or the line's end, up to the
    // first unescaped `"` (which always ends it). Tried last first: a `\"` is a quote in
    // the value unless only a backslash ending the value makes the line fit.
    const closes: number[] = [];
    for (let i = pos + 1; i < line.length; i++) {
      if (line[i] !== '"') continue;
      const escaped = line[i - 1] === '\\' && i - 1 > pos;
      if (!escaped) { closes.push(i); break; }
      if (line[i + 1] === ' ' || i + 1 === line.length) closes.push(i);
    }
    for (let c = closes.length - 1; c >= 0; c--) {
      const i = closes[c]!;
      fields.push(line.slice(pos + 1, i).replace(/\\"/g, '"'));
      if (next(i + 1, index)) return true;
      fields.pop();
    }
    return false;
  };
  const next = (end: number, index: number): boolean => {
    if (end === line.length) return index + 1 >= MIN_FIELD_COUNT;
    if (line[end] !== ' ') return false;
    return fieldAt(end + 1, index + 1);
  };
  return fieldAt(0, 0) ? fields : null;
}

const dash = (v: string | undefined): string | null => (v === undefined || v === '-' ? null : v);
const NUMBER = /^-?\d+(\.\d+)?$/;
/** A number, null for `-`, undefined for anything else. */
const numberOrDash = (v: string): number | null | undefined => (v === '-' ? null : NUMBER.test(v) ? Number(v) : undefined);

/** Parses one access-log line; null when it is not one (layout, numbers). */
export function parseAccessLogLine(line: string, node = ''): AccessLogRecord | null {
  const t = splitFields(line.replace(/[\r\n]+$/, ''));
  if (t === null) return null;
  const times = [t[5]!, t[6]!, t[7]!].map(numberOrDash);
  const statuses = [t[8]!, t[9]!].map(numberOrDash);
  const bytes = [t[10]!, t[11]!].map(numberOrDash);
  if ([...times, ...bytes].some((v) => v === undefined || v === null) || statuses.some((v) => v === undefined)) return null;
  return {
    type: t[0]!, time: t[1]!, elb: t[2]!, client: t[3]!, target: dash(t[4]),
    requestProcessingTime: times[0]!, targetProcessingTime: times[1]!, responseProcessingTime: times[2]!,
    elbStatusCode: statuses[0]!, targetStatusCode: statuses[1]!, receivedBytes: bytes[0]!, sentBytes: bytes[1]!,
    request: t[12]!, userAgent: dash(t[13]), sslCipher: dash(t[14]), sslProtocol: dash(t[15]), targetGroupArn: dash(t[16]),
    traceId: dash(t[17]), domainName: dash(t[18]), chosenCertArn: dash(t[19]), matchedRulePriority: t[20]!,
    requestCreationTime: t[21]!, actionsExecuted: dash(t[22]), redirectUrl: dash(t[23]), errorReason: dash(t[24]),
    targetPortList: dash(t[25]), targetStatusCodeList: dash(t[26]), classification: dash(t[27]),
    classificationReason: dash(t[28]), connTraceId: dash(t[29]), node,
  };
}

/** Epoch milliseconds of a log time (`2018-07-02T22:23:00.186641Z`; µs are cut to ms), or null. */
export function accessLogMs(time: string | null): number | null {
  if (time === null) return null;
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms : null;
}

/** The Root of a trace id field (`Self=…;Root=1-…-…` → `1-…-…`), or null. */
export function traceRootOf(traceId: string | null): string | null {
  if (traceId === null) return null;
  const m = /(?:^|;)\s*Root=([^;\s]+)/i.exec(traceId);
  return m ? m[1]! : null;
}
