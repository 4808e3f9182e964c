/**
 * Interface index → name maps. A LINUX_SLL2 packet (tcpdump -i any) carries only the
 * interface index, which means something only in the namespace where it was captured: the
 * map is recorded there at capture time and given to the reader later (`--ifmap FILE`).
 *
 * Accepted text: the output of `ip -o link` or `ip link` ("2: ens5@if3: <…"), of
 * `ip -j link` (JSON array with ifindex/ifname), a JSON object {"2": "ens5"}, or lines
 * "INDEX NAME" (as written by formatIfmap). Blank lines and `#` comments are ignored.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

const IP_LINK_LINE = /^(\d+):\s+([^\s:@]+)(?:@[^\s:]*)?:\s/;
const INDEX_NAME_LINE = /^(\d+)\s*[\s=:]\s*([^\s:@]+)\s*$/;
const IP_LINK_CONTINUATION = /^\s+\S/;
const IFMAP_HINT = 'give the output of `ip -o link` (run where the capture was taken), lines "INDEX NAME", or JSON {"2":"ens5"}';

function validIndex(text: string | number): number | null {
  const n = typeof text === 'number' ? text : Number(text);
  return Number.isInteger(n) && n > 0 && n <= 0x7fffffff ? n : null;
}

function parseJson(text: string): Map<number, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`the interface map is not valid JSON: ${(err as Error).message}`, IFMAP_HINT);
  }
  const map = new Map<number, string>();
  if (Array.isArray(value)) {
    for (const link of value as Array<Record<string, unknown>>) {
      const index = validIndex(link?.ifindex as number);
      if (index !== null && typeof link.ifname === 'string') map.set(index, link.ifname);
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, name] of Object.entries(value as Record<string, unknown>)) {
      const index = validIndex(key);
      if (index === null || typeof name !== 'string' || name.length === 0) {
        throw new InputError(`the interface map has an entry "${key}": ${JSON.stringify(name)} that is not index → name`, IFMAP_HINT);
      }
      map.set(index, name);
    }
  }
  return map;
}

/** Parses an interface map (formats above). Throws InputError for text that is none of them. */
export function parseIfmap(text: string): Map<number, string> {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new InputError('the interface map is empty', IFMAP_HINT);
  const map = trimmed.startsWith('{') || trimmed.startsWith('[') ? parseJson(trimmed) : new Map<number, string>();
  if (map.size === 0 && !(trimmed.startsWith('{') || trimmed.startsWith('['))) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].replace(/\r$/, '');
      if (line.trim().length === 0 || line.trimStart().startsWith('#')) continue;
      // `ip -o link` joins continuation lines with a backslash; only the head matters.
      const m = IP_LINK_LINE.exec(line) ?? INDEX_NAME_LINE.exec(line.trim());
      if (!m && IP_LINK_CONTINUATION.test(line)) continue; // `ip link` detail lines (link/ether …, altname …)
      const index = m ? validIndex(m[1]) : null;
      if (!m || index === null) {
        throw new InputError(`the interface map's line ${i + 1} is neither "INDEX NAME" nor \`ip link\` output: ${JSON.stringify(line.slice(0, 80))}`, IFMAP_HINT, { line: i + 1 });
      }
      map.set(index, m[2]);
    }
  }
  if (map.size === 0) throw new InputError('the interface map names no interfaces', IFMAP_HINT);
  return map;
}

/** The map as "INDEX NAME" lines (what parseIfmap reads back), sorted by index. */
export function formatIfmap(map: Map<number, string>): string {
  return [...map].sort((a, b) => a[0] - b[0]).map(([i, n]) => `${i} ${n}\n`).join('');
}

/** This network namespace's interfaces, from /sys/class/net/NAME/ifindex. */
export function readIfmapOfThisNamespace(sysClassNet = '/sys/class/net'): Map<number, string> {
  const map = new Map<number, string>();
  let names: string[];
  try {
    names = readdirSync(sysClassNet);
  } catch (err) {
    throw new InputError(`cannot list ${sysClassNet}: ${(err as Error).message}`, 'is /sys mounted? (inside a namespace, use ip netns exec, which remounts /sys)');
  }
  for (const name of names) {
    try {
      const index = validIndex(readFileSync(`${sysClassNet}/${name}/ifindex`, 'utf8').trim());
      if (index !== null) map.set(index, name);
    } catch {
      // The interface went away between readdir and read: not an error.
    }
  }
  return map;
}
