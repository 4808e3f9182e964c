/**
 * The lab's ALB access logs: one live file per node, one line per request in AWS's format
 * (the format itself is alb-log/'s: the nodes write with it, readers parse with it).
 */
import fs from 'node:fs';
import { parseAccessLogLine, type AccessLogRecord } from '../alb-log/index.js';
import { LAB } from './topology.js';

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
