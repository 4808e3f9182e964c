/**
 * Interface index → name maps. A LINUX_SLL2 packet (tcpdump -i any) carries only the
 * interface index, which means something only in the namespace where it was captured: the
 * map is recorded there at capture time and given to the reader later (`--ifmap FILE`).
 *
 * Accepted text — what a person copies from a terminal, alone or mixed (ip-link(8),
 * ip-address(8)):
 *   `ip link` / `ip -o link`      `2: ens5@if4: <BROADCAST,…> mtu 9001 …` (+ detail lines)
 *   `ip addr` / `ip -o addr`      the same heads, and `2: ens5    inet 172.31.5.20/16 …`
 *   `ip -d link`, `ip -s link`    the same heads (detail and counter lines are skipped)
 *   `ip -j link` / `ip -j addr`   JSON arrays with ifindex/ifname (pretty-printed with -p too)
 *   `ip -br link` / `ip -br addr` `ens5@if4  UP  …`: names WITHOUT an index (counted, not mapped)
 *   `INDEX NAME` lines            as written by formatIfmap (also `INDEX=NAME`, `INDEX: NAME`)
 *   a JSON object                 {"2": "ens5"}
 * Blank lines, `#` comments and shell prompts with their command (`$ ip -o link`) are ignored. A line that is none of these is skipped and
 * counted: the note says how many and shows the first one; only a text that names no
 * interface at all is an error.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { InputError } from '../errors.js';

/** `2: ens5@if4: <…` (ip link, ip addr, their -o forms, -d, -s). */
const IP_LINK_LINE = /^\s*(\d+):\s+([^\s:@]+)(?:@[^\s:]*)?:\s+</;
/** `2: ens5    inet 172.31.5.20/16 …` (ip -o addr). */
const IP_O_ADDR_LINE = /^\s*(\d+):\s+([^\s:@]+)\s+(?:inet6?|link\/\S+)\s/;
/** `2 ens5`, `2=ens5`, `2: ens5` alone on a line. */
const INDEX_NAME_LINE = /^(\d+)\s*[\s=:]\s*([^\s:@]+)\s*$/;
/** `ens5@if4   UP   …` (ip -br link / addr): a name and an operstate, no index. */
const IP_BRIEF_LINE = /^([^\s:@]+)(?:@\S+)?\s+(?:UP|DOWN|UNKNOWN|LOWERLAYERDOWN|DORMANT|NOTPRESENT|TESTING)\b/;
/** A shell prompt with the command (`$ ip -o link`, `root@ip-172-31-5-20:~# ip addr`): not data. */
const PROMPT_LINE = /^(?:[\w.-]+@[\w.-]+(?::\S*)?\s*)?[$%>#]\s+\S/;
/** Indented detail lines of `ip link` / `ip addr` (link/ether, inet, valid_lft, altname, RX: …). */
const IP_DETAIL_LINE = /^\s+\S/;

const IFMAP_HINT = 'give the output of `ip -o link` (or `ip -j addr`) run where the capture was taken, lines "INDEX NAME", or JSON {"2":"ens5"}';

/** What a map's text gave, with what was left out. */
export interface IfmapReading {
  map: Map<number, string>;
  /** Lines that are none of the accepted forms (skipped). */
  skippedLines: number;
  /** The first of them: its line number (from 1) and text (cut at 80 characters). */
  firstSkipped: { line: number; text: string } | null;
  /** Names listed without an index (`ip -br`): they cannot name an SLL2 index. */
  namesWithoutIndex: string[];
  /** Indexes given two different names (two namespaces' lists pasted together): the last one is kept. */
  conflicts: Array<{ index: number; names: [string, string] }>;
  /** One line for people about what was skipped, or null when everything was read. */
  note: string | null;
}

function validIndex(text: string | number): number | null {
  const n = typeof text === 'number' ? text : Number(text);
  return Number.isInteger(n) && n > 0 && n <= 0x7fffffff ? n : null;
}

/** Index/name pairs of a JSON value: an `ip -j` array or an {"INDEX": "NAME"} object; null when it is neither. */
function pairsOfJson(value: unknown): Array<[number, string]> | null {
  if (Array.isArray(value)) {
    const out: Array<[number, string]> = [];
    for (const link of value as Array<Record<string, unknown> | null>) {
      const index = link && typeof link === 'object' ? validIndex(link.ifindex as number) : null;
      if (index !== null && typeof link!.ifname === 'string' && link!.ifname.length > 0) out.push([index, link!.ifname]);
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out: Array<[number, string]> = [];
    for (const [key, name] of Object.entries(value as Record<string, unknown>)) {
      const index = validIndex(key);
      if (index === null || typeof name !== 'string' || name.length === 0) {
        throw new InputError(`the interface map has an entry "${key}": ${JSON.stringify(name)} that is not index → name`, IFMAP_HINT);
      }
      out.push([index, name]);
    }
    return out;
  }
  return null;
}

function tryJson(text: string): unknown {
  try { return JSON.parse(text); } catch { return undefined; }
}

/**
 * Reads an interface map in any of the forms above, alone or mixed; never throws for a line
 * it does not know (it is counted), only for a JSON object whose entries are not index → name.
 */
export function readIfmapText(text: string): IfmapReading {
  const reading: IfmapReading = { map: new Map(), skippedLines: 0, firstSkipped: null, namesWithoutIndex: [], conflicts: [], note: null };
  const set = (index: number, name: string): void => {
    const had = reading.map.get(index);
    if (had !== undefined && had !== name) reading.conflicts.push({ index, names: [had, name] });
    reading.map.set(index, name);
  };
  const trimmed = text.trim();
  // The whole text is one JSON value (`ip -j -p addr`, a map file).
  const whole = trimmed.startsWith('{') || trimmed.startsWith('[') ? tryJson(trimmed) : undefined;
  if (whole !== undefined) {
    for (const [i, n] of pairsOfJson(whole) ?? []) set(i, n);
  } else {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/\r$/, '');
      const t = line.trim();
      if (t.length === 0 || t.startsWith('#') || PROMPT_LINE.test(t)) continue;
      // `ip -j link` prints one line of JSON: a mixture has it as one of its lines.
      if (t.startsWith('[') || t.startsWith('{')) {
        const pairs = pairsOfJson(tryJson(t));
        if (pairs !== null) { for (const [k, n] of pairs) set(k, n); continue; }
      }
      // `ip -o link` joins its detail lines with a backslash: only the head matters.
      const m = IP_LINK_LINE.exec(line) ?? IP_O_ADDR_LINE.exec(line) ?? INDEX_NAME_LINE.exec(t);
      const index = m ? validIndex(m[1]!) : null;
      if (m && index !== null) { set(index, m[2]!); continue; }
      const brief = IP_BRIEF_LINE.exec(t);
      if (brief) { if (!reading.namesWithoutIndex.includes(brief[1]!)) reading.namesWithoutIndex.push(brief[1]!); continue; }
      if (IP_DETAIL_LINE.test(line)) continue; // link/ether …, inet …, valid_lft …, altname …
      reading.skippedLines++;
      reading.firstSkipped ??= { line: i + 1, text: line.slice(0, 80) };
    }
  }
  const unmapped = reading.namesWithoutIndex.filter((n) => ![...reading.map.values()].includes(n));
  reading.namesWithoutIndex = unmapped;
  const parts: string[] = [];
  if (reading.skippedLines > 0) {
    parts.push(`${reading.skippedLines} line${reading.skippedLines === 1 ? '' : 's'} of the interface map skipped (neither \`ip link\`/\`ip addr\` output nor "INDEX NAME"; first, line ${reading.firstSkipped!.line}: ${JSON.stringify(reading.firstSkipped!.text)})`);
  }
  if (unmapped.length > 0) parts.push(`${unmapped.join(', ')} listed without an index (\`ip -br\` prints none): give \`ip -o link\` for ${unmapped.length === 1 ? 'it' : 'them'}`);
  for (const c of reading.conflicts) parts.push(`index ${c.index} is named both ${c.names[0]} and ${c.names[1]} (two namespaces' lists?): ${c.names[1]} kept`);
  reading.note = parts.length > 0 ? parts.join('; ') : null;
  return reading;
}

/**
 * Parses an interface map (forms above). Lines it does not know are skipped (see
 * readIfmapText for the note saying so); throws InputError only when the text is empty, is
 * broken JSON, or names no interface with an index.
 */
export function parseIfmap(text: string): Map<number, string> {
  const trimmed = text.trim();
  if (trimmed.length === 0) throw new InputError('the interface map is empty', IFMAP_HINT);
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && !trimmed.includes('\n') && tryJson(trimmed) === undefined) {
    throw new InputError('the interface map is not valid JSON', IFMAP_HINT);
  }
  const reading = readIfmapText(text);
  if (reading.map.size === 0) {
    const why = reading.namesWithoutIndex.length > 0 ? ` (${reading.namesWithoutIndex.slice(0, 4).join(', ')} are listed without an index: \`ip -br\` prints none)` : reading.firstSkipped ? ` (line ${reading.firstSkipped.line}: ${JSON.stringify(reading.firstSkipped.text)})` : '';
    throw new InputError(`the interface map names no interfaces with an index${why}`, IFMAP_HINT);
  }
  return reading.map;
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
