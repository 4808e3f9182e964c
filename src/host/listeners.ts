/**
 * Listening TCP sockets (`ss -ltnHp`, ss(8)): one line per socket,
 *   LISTEN 0 511 0.0.0.0:8080 0.0.0.0:* users:(("node",pid=3347,fd=18))
 * Local addresses are `0.0.0.0:80`, `127.0.0.53%lo:53`, `[::]:80`, `[::1]:80`, `*:80` (a
 * dual-stack socket on ::).
 */
import type { ListenerFacts } from './types.js';

/** `0.0.0.0:8080` → address and port; null when it is not address:port. */
function splitAddress(text: string): { address: string; port: number } | null {
  const cut = text.lastIndexOf(':');
  if (cut <= 0) return null;
  const port = Number(text.slice(cut + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535 || text.slice(cut + 1) === '') return null;
  let address = text.slice(0, cut);
  if (address.startsWith('[') && address.endsWith(']')) address = address.slice(1, -1);
  return { address, port };
}

/** `users:(("node",pid=3347,fd=18),("node",pid=3350,fd=18))` → `node (pid 3347), node (pid 3350)`. */
function processText(text: string): string | null {
  const found: string[] = [];
  const re = /\("((?:[^"\\]|\\.)*)",pid=(\d+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const p = `${m[1]} (pid ${m[2]})`;
    if (!found.includes(p)) found.push(p);
  }
  return found.length > 0 ? found.join(', ') : null;
}

/** Parses `ss -ltnHp` (with or without the State column, with or without -p). Never throws. */
export function parseSs(text: string): ListenerFacts[] {
  const out: ListenerFacts[] = [];
  for (const line of text.split('\n')) {
    const w = line.trim().split(/\s+/);
    if (w.length < 4) continue;
    // State, Recv-Q, Send-Q, Local, Peer, [Process]: the State column is there unless ss was told one state.
    const start = /^\d+$/.test(w[0]) ? 0 : 1;
    if (!/^\d+$/.test(w[start] ?? '') || !/^\d+$/.test(w[start + 1] ?? '')) continue;
    const local = splitAddress(w[start + 2] ?? '');
    if (local === null) continue;
    out.push({ address: local.address, port: local.port, process: processText(w.slice(start + 4).join(' ')) });
  }
  return out;
}
