/**
 * The stub resolver's configuration: /etc/resolv.conf (resolv.conf(5)) and `--server` specs.
 * Only what a stub resolver sending one query needs: nameservers and
 * `options timeout:N attempts:N` (glibc defaults 5 s and 2 attempts, maxima 30 and 5).
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { UsageError, InputError } from '../errors.js';
import type { DnsServer } from './types.js';

export const DNS_PORT = 53;
export const RESOLV_CONF_PATH = '/etc/resolv.conf';
/** glibc: RES_TIMEOUT and RES_DFLRETRY; RES_MAXRETRANS-like caps from resolv.conf(5). */
export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_ATTEMPTS = 2;
const MAX_TIMEOUT_S = 30;
const MAX_ATTEMPTS = 5;

export interface ResolverConfig {
  servers: DnsServer[];
  timeoutMs: number;
  attempts: number;
  /** Where the servers came from, for messages: a file path or `--server`. */
  source: string;
}

/** Parses resolv.conf text. Unknown lines are ignored, as the C library does. */
export function parseResolvConf(text: string, source = RESOLV_CONF_PATH): ResolverConfig {
  const servers: DnsServer[] = [];
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  let attempts = DEFAULT_ATTEMPTS;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    if (line === '') continue;
    const [keyword, ...rest] = line.split(/\s+/);
    if (keyword === 'nameserver' && rest[0] !== undefined) {
      const address = rest[0].replace(/%.*$/, '');
      if (isIP(address) !== 0) servers.push({ address, port: DNS_PORT });
    } else if (keyword === 'options') {
      for (const option of rest) {
        const m = /^(timeout|attempts):(\d+)$/.exec(option);
        if (!m) continue;
        const value = Number(m[2]);
        if (m[1] === 'timeout') timeoutMs = Math.min(Math.max(value, 1), MAX_TIMEOUT_S) * 1000;
        else attempts = Math.min(Math.max(value, 1), MAX_ATTEMPTS);
      }
    }
  }
  return { servers, timeoutMs, attempts, source };
}

/** Reads /etc/resolv.conf (under `ip netns exec`, the namespace's own bind-mounted copy). */
export function readResolvConf(path = RESOLV_CONF_PATH): ResolverConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read ${path}: ${(err as Error).message}`, 'name a resolver with --server ADDR', { path });
  }
  const config = parseResolvConf(text, path);
  if (config.servers.length === 0) {
    throw new InputError(`${path} names no nameserver`, 'name a resolver with --server ADDR', { path });
  }
  return config;
}

/**
 * Parses a server spec: `10.0.0.2`, `10.0.0.2:5353`, `10.0.0.2#5353` (dig), `::1`,
 * `[::1]:5353`, `::1#5353`. Names are refused: resolving the resolver would hide which
 * server answered.
 */
export function parseServerSpec(spec: string): DnsServer {
  const bad = (why: string): never => {
    throw new UsageError(`bad DNS server '${spec}': ${why}`, 'give an IP address, optionally with a port: 10.0.0.2, 10.0.0.2:5353, [::1]:5353');
  };
  let address = spec.trim();
  let portText: string | null = null;
  const bracketed = /^\[([^\]]+)\](?:[:#](\d+))?$/.exec(address);
  if (bracketed) {
    address = bracketed[1];
    portText = bracketed[2] ?? null;
  } else if (address.includes('#')) {
    [address, portText] = address.split('#', 2) as [string, string];
  } else if (address.split(':').length === 2) {
    [address, portText] = address.split(':', 2) as [string, string];
  }
  if (isIP(address) === 0) bad('not an IP address');
  let port = DNS_PORT;
  if (portText !== null) {
    if (!/^\d+$/.test(portText)) bad('the port is not a number');
    port = Number(portText);
    if (port < 1 || port > 65535) bad('the port is out of range 1-65535');
  }
  return { address, port };
}

/** `10.0.0.2#53` or `::1#53`, the way dig names the server that answered. */
export function formatServer(server: DnsServer): string {
  return `${server.address}#${server.port}`;
}
