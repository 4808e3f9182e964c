/** The words of watch: one line per run, and the summary of all runs. Decisions are in tally.ts. */
import { nodeText, targetText } from '../follow/index.js';
import type { LayerId } from '../follow/index.js';
import { howId, type RequestOutcome, type RunOutcome } from './outcome.js';
import type { FailureGroup, NodeRef, TargetTally, WatchSummary } from './tally.js';

const ERROR_WORDS: Readonly<Record<string, string>> = {
  HTTP_CONNECT_REFUSED: 'connection refused',
  HTTP_TIMEOUT: 'no answer (timeout)',
  HTTP_UNREACHABLE: 'unreachable (ICMP)',
  HTTP_RESET: 'connection reset',
  HTTP_EMPTY_REPLY: 'empty reply',
  HTTP_INCOMPLETE: 'incomplete answer',
  HTTP_DNS: 'name not resolved',
  HTTP_ABORTED: 'aborted',
};

/** `502 from the load balancer`, `500 from the application`, `connection refused`. */
export function howText(how: string): string {
  const m = /^(\d{3})(?: (lb|app))?$/.exec(how);
  if (m) return m[2] === 'lb' ? `${m[1]} from the load balancer` : m[2] === 'app' ? `${m[1]} from the application` : m[1]!;
  return ERROR_WORDS[how] ?? how.replace(/^HTTP_/, '').toLowerCase().replace(/_/g, ' ');
}

/** The layers as nouns, for "first failing: container path (not-listening)". */
export const LAYER_NOUNS: Readonly<Record<LayerId, string>> = {
  dns: 'DNS',
  route: 'route',
  loadBalancer: 'load balancer',
  instance: 'instance',
  container: 'container path',
  application: 'application',
};

function seconds(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 1000).toFixed(2)} s`;
}

/** `12:03:01` from an ISO time (UTC, as the results carry it). */
function clock(iso: string): string {
  return iso.slice(11, 19);
}

function shortNode(q: NodeRef): string {
  return q.node ?? q.address;
}

function requestsText(requests: RequestOutcome[]): string {
  return requests.map((q) => `${shortNode(q)} ${q.ok ? String(q.httpStatus) : howText(howId(q))}`).join(', ');
}

/**
 * One line per run: time, #, verdict, first failing layer (and cause id), total time, and how
 * each request ended, e.g.
 * `2026-12-07T12:03:01Z  #13  FAILED  Container path (not-listening)  1.94 s  alb-a 200, alb-b 502 from the load balancer`.
 */
export function runLine(o: RunOutcome): string {
  const time = o.startedAt.replace(/\.\d+Z$/, 'Z');
  const layer = o.firstFailing ? `${LAYER_NOUNS[o.firstFailing]}${o.causeId ? ` (${o.causeId})` : ''}` : o.ok ? '-' : 'not located';
  return `${time}  #${o.seq}  ${o.ok ? 'ok    ' : 'FAILED'}  ${layer.padEnd(36)}  ${seconds(o.durationMs).padStart(7)}${o.requests.length ? `  ${requestsText(o.requests)}` : ''}`;
}

/** `ec2-a (172.31.5.20:80, zone a)`; the entry of targets beyond the cap: `other targets`. */
function targetWords(t: Pick<TargetTally, 'address' | 'name' | 'zone'> & { overflow?: boolean }): string {
  return t.overflow ? 'other targets' : targetText(t, t.address);
}

/**
 * Where the group's failing requests went beyond the load balancer, as far as the evidence
 * says: ` to target ec2-a (172.31.5.20:80, zone a)`, ` to no target`; '' when it does not say.
 */
function targetsText(g: FailureGroup): string {
  const parts = g.targets.map(targetWords);
  if (g.noTarget) parts.push('no target');
  if (!parts.length) return '';
  const noun = g.targets.length > 1 ? 'targets ' : g.targets.length === 1 ? 'target ' : '';
  return ` to ${noun}${parts.join(' and ')}${g.targetUnknown ? ' (some requests\' target not known)' : ''}`;
}

function throughText(g: FailureGroup): string {
  if (!g.through.length) return 'before any request was sent';
  return `through ${g.through.map(nodeText).join(' and ')}${targetsText(g)}`;
}

function failsText(how: Record<string, number>): string[] {
  return Object.entries(how).filter(([id]) => !/^[23]\d\d\b/.test(id)).map(([id, c]) => `${c}× ${howText(id)}`);
}

function groupWhat(g: FailureGroup): string {
  if (g.overflow) return 'other kinds of failure';
  const layer = g.layer ? `first failing: ${LAYER_NOUNS[g.layer]}${g.causeId ? ` (${g.causeId})` : ''}` : 'not located';
  const how = g.how.length ? `${g.how.map(howText).join(' or ')} — ` : '';
  return `${how}${layer}`;
}

function groupWhen(g: FailureGroup): string {
  return g.runs === 1 ? `run #${g.firstSeq} at ${clock(g.firstAt)}` : `runs #${g.firstSeq}…#${g.lastSeq}, ${clock(g.firstAt)}…${clock(g.lastAt)}`;
}

function pct(n: number, of: number): string {
  return `${((100 * n) / of).toFixed(n * 1000 < of ? 2 : 1).replace(/\.0+$/, '')} %`;
}

/**
 * The summary of a watch, several lines: the failures by what their evidence says
 * ("3 of 40 runs failed, all through alb-b (10.77.2.10, zone b) to target ec2-a (172.31.5.20:80,
 * zone a): 502 from the load balancer — …"), then each load-balancer address, each target, the run times.
 */
export function summaryText(s: WatchSummary): string {
  const lines: string[] = [];
  if (s.runs === 0) return `watch ${s.url}: no run completed\n`;
  lines.push(`watch ${s.url}: ${s.runs} run${s.runs > 1 ? 's' : ''} from ${clock(s.firstAt!)} to ${clock(s.lastAt!)} (UTC)`);
  if (s.failed === 0) {
    lines.push(`  0 of ${s.runs} runs failed`);
  } else if (s.groups.length === 1) {
    const g = s.groups[0]!;
    lines.push(`  ${s.failed} of ${s.runs} runs failed (${pct(s.failed, s.runs)}), all ${throughText(g)}: ${groupWhat(g)} (${groupWhen(g)})`);
  } else {
    lines.push(`  ${s.failed} of ${s.runs} runs failed (${pct(s.failed, s.runs)}):`);
    for (const g of s.groups) lines.push(`    ${g.runs} ${throughText(g)}: ${groupWhat(g)} (${groupWhen(g)})`);
  }
  if (s.nodes.length) {
    lines.push('  per load-balancer address:');
    const width = Math.max(...s.nodes.map((n) => nodeText(n).length));
    for (const n of s.nodes) {
      const fails = failsText(n.how);
      lines.push(`    ${nodeText(n).padEnd(width)}  ${n.failed} of ${n.requests} failed${fails.length ? ` (${fails.join(', ')})` : ''}`);
    }
  }
  if (s.targets.length || s.noTarget.requests) {
    lines.push('  per target (as the access log or the captures say):');
    const named = s.targets.map((t) => ({ t, text: targetWords(t) }));
    const width = Math.max(...named.map((x) => x.text.length), s.noTarget.requests ? 'no target'.length : 0);
    for (const { t, text } of named) {
      const fails = failsText(t.how);
      lines.push(`    ${text.padEnd(width)}  ${t.failed} of ${t.requests} failed${fails.length ? ` (${fails.join(', ')})` : ''}${t.health ? `; health (last given): ${t.health}` : ''}`);
    }
    if (s.noTarget.requests) lines.push(`    ${'no target'.padEnd(width)}  ${s.noTarget.requests} request${s.noTarget.requests > 1 ? 's' : ''} sent to no target, ${s.noTarget.failed} failed`);
  }
  if (s.durationMs) lines.push(`  run time: min ${seconds(s.durationMs.min)}, mean ${seconds(s.durationMs.mean)}, max ${seconds(s.durationMs.max)}`);
  return lines.join('\n') + '\n';
}
