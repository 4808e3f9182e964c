/**
 * `docker ps` (docker-ps(1)): the columns CONTAINER ID, IMAGE, COMMAND, CREATED, STATUS,
 * PORTS, NAMES, cut at the header's column starts (values may hold spaces: "2 hours ago").
 * A published port `0.0.0.0:80->8080/tcp` says what Docker's DNAT rule should send where — what
 * was meant, not what the rules are (the nat table says that).
 */

export interface ContainerRow {
  id: string;
  image: string;
  status: string;
  /** Running (`Up …`), as docker says. */
  up: boolean;
  ports: Array<{ hostAddress: string | null; hostPort: number | null; containerPort: number; protocol: string }>;
  names: string[];
}

export function readDockerPs(lines: readonly string[]): ContainerRow[] {
  const header = lines[0] ?? '';
  const cols = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'].map((c) => header.indexOf(c));
  if (cols.some((c) => c < 0)) return [];
  const out: ContainerRow[] = [];
  for (const line of lines.slice(1)) {
    if (line.trim() === '') continue;
    const cell = (k: number): string => line.slice(cols[k]!, k + 1 < cols.length ? cols[k + 1] : undefined).trim();
    const ports = cell(5).split(/,\s*/).filter((p) => p !== '').map((p) => {
      const m = /^(?:(\S*?):(\d+)->)?(\d+)\/(\w+)$/.exec(p.trim());
      return m ? { hostAddress: m[1] === undefined ? null : m[1] || null, hostPort: m[2] ? Number(m[2]) : null, containerPort: Number(m[3]), protocol: m[4]! } : null;
    }).filter((p): p is NonNullable<typeof p> => p !== null);
    out.push({ id: cell(0), image: cell(1), status: cell(4), up: /^Up\b/.test(cell(4)), ports, names: cell(6).split(',').map((n) => n.trim()).filter((n) => n !== '') });
  }
  return out;
}
