/**
 * Reading the lab ALB's access logs (the AWS ALB access-log format, one line per request;
 * https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-access-logs.html).
 */
import fs from 'node:fs';
import { LAB } from './topology.js';

export interface AccessLogRecord {
  type: string;
  time: string;
  elb: string;
  client: string;
  /** `ip:port`, or null when the request was not sent to a target (`-`). */
  target: string | null;
  requestProcessingTime: number;
  targetProcessingTime: number;
  responseProcessingTime: number;
  elbStatusCode: number | null;
  targetStatusCode: number | null;
  receivedBytes: number;
  sentBytes: number;
  request: string;
  userAgent: string | null;
  sslCipher: string | null;
  sslProtocol: string | null;
  targetGroupArn: string | null;
  traceId: string | null;
  domainName: string | null;
  chosenCertArn: string | null;
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
  /** Which ALB node wrote it. */
  node: string;
}

/** Splits on spaces, keeping "quoted strings" (with \" escapes) as one token without quotes. */
function tokens(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === ' ') { i++; continue; }
    if (line[i] === '"') {
      let s = '';
      i++;
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) { s += line[i + 1]; i += 2; continue; }
        s += line[i]; i++;
      }
      i++;
      out.push(s);
    } else {
      const j = line.indexOf(' ', i);
      const end = j === -1 ? line.length : j;
      out.push(line.slice(i, end));
      i = end;
    }
  }
  return out;
}

const dash = (v: string | undefined): string | null => (v === undefined || v === '-' ? null : v);
const num = (v: string | undefined): number | null => (v === undefined || v === '-' ? null : Number(v));

/** Parses one access-log line; null when it has too few fields to be one. */
export function parseAccessLogLine(line: string, node = ''): AccessLogRecord | null {
  const t = tokens(line.trim());
  if (t.length < 29) return null;
  return {
    type: t[0]!, time: t[1]!, elb: t[2]!, client: t[3]!, target: dash(t[4]),
    requestProcessingTime: Number(t[5]), targetProcessingTime: Number(t[6]), responseProcessingTime: Number(t[7]),
    elbStatusCode: num(t[8]), targetStatusCode: num(t[9]), receivedBytes: Number(t[10]), sentBytes: Number(t[11]),
    request: t[12]!, userAgent: dash(t[13]), sslCipher: dash(t[14]), sslProtocol: dash(t[15]), targetGroupArn: dash(t[16]),
    traceId: dash(t[17]), domainName: dash(t[18]), chosenCertArn: dash(t[19]), matchedRulePriority: t[20]!,
    requestCreationTime: t[21]!, actionsExecuted: dash(t[22]), redirectUrl: dash(t[23]), errorReason: dash(t[24]),
    targetPortList: dash(t[25]), targetStatusCodeList: dash(t[26]), classification: dash(t[27]),
    classificationReason: dash(t[28]), connTraceId: dash(t[29]), node,
  };
}

/** Every access-log record of the lab's ALB nodes (both, or one), oldest first per node. */
export function readAccessLog(node?: 'alb-a' | 'alb-b'): AccessLogRecord[] {
  const nodes = node ? [node] : (['alb-a', 'alb-b'] as const);
  const out: AccessLogRecord[] = [];
  for (const n of nodes) {
    let text = '';
    try { text = fs.readFileSync(LAB.accessLogs[n], 'utf8'); } catch { continue; }
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      const r = parseAccessLogLine(line, n);
      if (r) out.push(r);
    }
  }
  return out;
}
