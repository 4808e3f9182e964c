/**
 * What `flowtrace explain` read, as text: each part (the tool, where it is, what it gave), the
 * lines it did not recognise, and what the text could not prove. Pure: the CLI prints it.
 */
import type { FollowResult } from '../follow/index.js';

export function renderExplainReading(result: FollowResult, opts: { color: boolean }): string {
  const x = result.explain;
  if (!x) return '';
  const dim = (s: string): string => (opts.color ? `\x1b[2m${s}\x1b[0m` : s);
  const out: string[] = [`read ${x.parts.length} part${x.parts.length === 1 ? '' : 's'}:`];
  const sources = new Set(x.parts.map((p) => p.source));
  for (const p of x.parts) {
    const where = `${sources.size > 1 ? `${p.source} ` : ''}lines ${p.fromLine}–${p.toLine}`;
    out.push(`  ${p.format.padEnd(13)} ${where.padEnd(16)} ${p.summary}${p.namespace ? dim(`  (in ${p.namespace})`) : ''}`);
  }
  for (const u of x.unrecognised) {
    out.push(`  ${'not recognised'.padEnd(13)} ${`${sources.size > 1 ? `${u.source} ` : ''}lines ${u.fromLine}–${u.toLine}`.padEnd(16)} ${dim(JSON.stringify(u.text.slice(0, 70)))}`);
  }
  for (const n of x.notes) out.push(dim(`  note: ${n}`));
  return out.join('\n') + '\n\n';
}
