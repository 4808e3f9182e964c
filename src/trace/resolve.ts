/**
 * HOST → the addresses to trace. An address is used as is; a name goes through the system
 * resolver (getaddrinfo: /etc/hosts, then /etc/resolv.conf — inside a lab node that is the
 * lab's resolver, which `ip netns exec` bind-mounts from /etc/netns/<ns>/resolv.conf).
 * Every address is traced, in the resolver's order.
 */
import { lookup } from 'node:dns/promises';
import { NetworkError, UsageError } from '../errors.js';
import { canonicalAddress, familyOf } from './address.js';
import type { IpFamily } from './types.js';

export type AddressResolver = (host: string, family: IpFamily | undefined) => Promise<string[]>;

export const systemResolver: AddressResolver = async (host, family) => {
  try {
    const all = await lookup(host, { all: true, family: family ?? 0, verbatim: true });
    return all.map((a) => a.address);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'ERROR';
    const notFound = code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EAI_NONAME';
    throw new NetworkError(
      notFound ? 'UNKNOWN_HOST' : 'RESOLVE_FAILED',
      notFound ? `cannot resolve ${host}: no such name${family ? ` (IPv${family})` : ''}` : `cannot resolve ${host}: ${code}`,
      notFound ? `check the name, or see what the resolver says: flowtrace dns ${host}` : 'check /etc/resolv.conf and that the resolver answers: flowtrace dns NAME',
      { host, code, failureSource: 'resolver' },
    );
  }
};

export async function resolveTargets(host: string, family: IpFamily | undefined, resolver: AddressResolver): Promise<string[]> {
  // Checked before any lookup: getaddrinfo would take '' for the local host, a URL for a name.
  if (host.trim() === '') throw new UsageError('bad HOST: empty', 'give a host name or an address, e.g. flowtrace trace seqas.online');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host) || /[/\s]/.test(host)) {
    throw new UsageError(`bad HOST '${host}': a host name or address, not a URL or path`, 'give the host part only, e.g. flowtrace trace seqas.online --proto tcp --port 443');
  }
  const literal = familyOf(host.replace(/^\[(.*)\]$/, '$1'));
  if (literal !== null) {
    const address = canonicalAddress(host.replace(/^\[(.*)\]$/, '$1'));
    if (family !== undefined && family !== literal) {
      throw new NetworkError('FAMILY_MISMATCH', `${host} is an IPv${literal} address but -${family} was given`, `drop -${family}, or give an IPv${family} address`, { host });
    }
    return [address];
  }
  const seen = new Set<string>();
  for (const a of await resolver(host, family)) {
    if (family === undefined || familyOf(a) === family) seen.add(canonicalAddress(a));
  }
  if (seen.size === 0) {
    throw new NetworkError('UNKNOWN_HOST', `${host} has no ${family ? `IPv${family} ` : ''}address`, `check the name: flowtrace dns ${host}`, { host, family: family ?? null, failureSource: 'resolver' });
  }
  return [...seen];
}
