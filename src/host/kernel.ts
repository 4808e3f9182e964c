/**
 * Kernel counters and settings: /proc/net/netstat and /proc/net/snmp (pairs of lines, names
 * then values, per group), /proc/net/stat/nf_conntrack (hex, one line per CPU), and
 * `sysctl` output (`key = value`). proc(5), sysctl(8).
 */

/**
 * `Group.Name` → value from /proc/net/netstat and /proc/net/snmp text (both may be
 * concatenated). A header line and the value line after it with the same `Group:` make a
 * pair; anything else is skipped.
 */
export function parseProcNetstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    const head = /^(\w+):\s+(.*)$/.exec(lines[i]);
    const vals = /^(\w+):\s+(.*)$/.exec(lines[i + 1]);
    if (!head || !vals || head[1] !== vals[1]) continue;
    const names = head[2].trim().split(/\s+/);
    const values = vals[2].trim().split(/\s+/);
    // A header has names, its value line numbers: a value line read as a header is skipped here.
    if (names.some((n) => /^-?\d+$/.test(n)) || values.some((v) => !/^-?\d+$/.test(v))) continue;
    for (let k = 0; k < names.length && k < values.length; k++) out[`${head[1]}.${names[k]}`] = Number(values[k]);
    i++;
  }
  return out;
}

/**
 * /proc/net/stat/nf_conntrack: the header names, then one hex line per CPU; each stat is
 * summed over CPUs — except `entries`, the table's size, which every line repeats (taken
 * once). Never throws; an unreadable text gives {}.
 */
export function parseConntrackStat(text: string): Record<string, number> {
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length === 0) return {};
  const names = lines[0].split(/\s+/);
  if (names.some((n) => !/^[a-z_]+$/i.test(n))) return {};
  const out: Record<string, number> = {};
  for (const line of lines.slice(1)) {
    const values = line.split(/\s+/);
    if (values.length !== names.length || values.some((v) => !/^[0-9a-f]+$/i.test(v))) continue;
    for (let k = 0; k < names.length; k++) {
      const v = parseInt(values[k], 16);
      out[names[k]] = names[k] === 'entries' ? Math.max(out[names[k]] ?? 0, v) : (out[names[k]] ?? 0) + v;
    }
  }
  return out;
}

/** `key = value` lines of sysctl (values kept as text: `32768\t60999`). */
export function parseSysctl(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_.\-/]+)\s*=\s?(.*)$/.exec(line);
    if (m) out[m[1]] = m[2].trim();
  }
  return out;
}

/** The sysctl key of an interface setting: dots in the name become `/` (sysctl(8)). */
export function interfaceSysctlKey(prefix: string, ifname: string, leaf: string): string {
  return `${prefix}.${ifname.replace(/\./g, '/')}.${leaf}`;
}
