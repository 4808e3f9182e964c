/**
 * Asking the Docker Engine which container owns a process: HTTP over the unix socket
 * /var/run/docker.sock (Docker Engine API: GET /containers/json, GET /containers/{id}/json →
 * State.Pid). https://docs.docker.com/engine/api/
 *
 * Read-only, short timeouts, never throws: without Docker the capture goes on and says so.
 */
import http from 'node:http';
import fs from 'node:fs';

export const DOCKER_SOCKET = '/var/run/docker.sock';
const DOCKER_TIMEOUT_MS = 2000;
const DOCKER_MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface DockerContainer {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  image: string;
  /** The container's main process as seen from the host's PID namespace; 0 when not running. */
  pid: number;
}

function getJson(socketPath: string, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, method: 'GET', headers: { Host: 'docker' }, timeout: DOCKER_TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > DOCKER_MAX_BODY_BYTES) { req.destroy(new Error('answer too large')); return; }
        chunks.push(c);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) { reject(new Error(`${path}: HTTP ${res.statusCode}`)); return; }
        try { resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))); } catch { reject(new Error(`${path}: not JSON`)); }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${DOCKER_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * The running containers with their main PIDs; `problem` says why the list is empty when
 * Docker could not be asked (null: no socket, which is normal on a host without Docker).
 */
export async function listDockerContainers(socketPath = DOCKER_SOCKET): Promise<{ containers: DockerContainer[]; problem: string | null }> {
  if (!fs.existsSync(socketPath)) return { containers: [], problem: null };
  try {
    const list = await getJson(socketPath, '/containers/json');
    if (!Array.isArray(list)) return { containers: [], problem: 'docker: unexpected answer to /containers/json' };
    const containers: DockerContainer[] = [];
    for (const c of list as Array<{ Id?: unknown; Names?: unknown; Image?: unknown }>) {
      if (typeof c.Id !== 'string' || !/^[0-9a-f]{1,64}$/i.test(c.Id)) continue;
      const names = Array.isArray(c.Names) ? c.Names.filter((n): n is string => typeof n === 'string') : [];
      const inspected = (await getJson(socketPath, `/containers/${c.Id}/json`)) as { State?: { Pid?: unknown } };
      const pid = typeof inspected?.State?.Pid === 'number' ? inspected.State.Pid : 0;
      containers.push({ id: c.Id, name: (names[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''), image: typeof c.Image === 'string' ? c.Image : '', pid });
    }
    return { containers, problem: null };
  } catch (err) {
    return { containers: [], problem: `docker: ${(err as Error).message}` };
  }
}

/**
 * The format `docker inspect --format` is given where the CLI is asked instead of the socket
 * (a server over ssh): one line per container, `id|pid|/name|image` — one word, no space.
 */
export const DOCKER_INSPECT_FORMAT = '{{.Id}}|{{.State.Pid}}|{{.Name}}|{{.Config.Image}}';

/** Parses the lines of `docker inspect --format DOCKER_INSPECT_FORMAT …`. */
export function parseDockerInspect(text: string): DockerContainer[] {
  const out: DockerContainer[] = [];
  for (const line of text.split('\n')) {
    const [id, pid, name, ...image] = line.trim().split('|');
    if (id === undefined || !/^[0-9a-f]{1,64}$/i.test(id) || pid === undefined || name === undefined) continue;
    out.push({ id, name: name.replace(/^\//, '') || id.slice(0, 12), image: image.join('|'), pid: /^\d+$/.test(pid) ? Number(pid) : 0 });
  }
  return out;
}
