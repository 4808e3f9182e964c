/**
 * Journeys as text: each connection's packets, where each was seen, the first point it
 * missed — the same lines for `follow` (the request's connections) and `analyze --journey`
 * (every connection of a capture).
 */
import type { ConnectionJourney } from '../journey/index.js';
import { breakText } from '../follow/index.js';

type Paint = (color: 'red' | 'yellow' | 'dim', s: string) => string;
const plain: Paint = (_c, s) => s;

const point = (p: { interface: string; direction: string }): string => `${p.interface}${p.direction === 'in' || p.direction === 'out' ? ` ${p.direction}` : ''}`;

/** The head line of a journey: endpoints, NAT, the path its packets should take. */
export function journeyHead(j: ConnectionJourney): string {
  const nat = j.serverInside ? ` ⇒ ${j.serverInside.address}:${j.serverInside.port}` : '';
  return `#${j.connectionId} ${j.client.address}:${j.client.port} → ${j.server.address}:${j.server.port}${nat}   path ${j.requestPath.map(point).join(' → ') || '?'}`;
}

/** One line per packet of the journey: → towards the application, ← back; ✗ the first point missed. */
export function journeySteps(j: ConnectionJourney, paint: Paint = plain): string[] {
  return j.steps.map((st) => {
    const seen = st.seen.map(point).join(' → ');
    const miss = st.missingAt ? paint('red', `  ✗ ${point(st.missingAt)}`) : '';
    const tries = st.transmissions > 1 ? paint('yellow', ` (sent ${st.transmissions}×)`) : '';
    const host = st.originMidway ? paint('dim', ' (sent by the host)') : '';
    return `${st.label.padEnd(9)} ${st.way === 'request' ? '→' : '←'} ${seen}${miss}${tries}${host}`;
  });
}

/** Every journey of a capture, those that stopped first; `limit` bounds the lines. */
export function renderJourneys(journeys: readonly ConnectionJourney[], options: { limit?: number; rolesFrom?: 'links' | 'packets' } = {}): string {
  const limit = options.limit ?? 50;
  const broken = journeys.filter((j) => j.break !== null);
  const out: string[] = [
    `Journeys: ${journeys.length} connection${journeys.length === 1 ? '' : 's'}, ${broken.length} stopped on the way (${broken.filter((j) => j.break!.way === 'request').length} towards the application, ${broken.filter((j) => j.break!.way === 'reply').length} on the way back)${options.rolesFrom === 'packets' ? '; the path of each is the furthest its packets (or another connection\'s to the same server) got' : ''}`,
  ];
  const shown = [...broken, ...journeys.filter((j) => j.break === null)].slice(0, limit);
  for (const j of shown) {
    out.push(`  ${journeyHead(j)}`);
    for (const l of journeySteps(j)) out.push(`    ${l}`);
    out.push(j.break ? `    stopped: ${breakText(j.break, j)}` : '    went through both ways');
  }
  if (journeys.length > shown.length) out.push(`  … ${journeys.length - shown.length} more (--json has them all)`);
  return out.join('\n') + '\n';
}
