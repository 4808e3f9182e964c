/**
 * `ssh://[user@]host[:port]`: the one parser of an ssh target. The host may be an alias of
 * ~/.ssh/config (its HostName, User, Port, ProxyJump and keys then apply, as with ssh); user
 * and host are checked so that neither can be read by ssh as an option.
 */
import { UsageError } from '../errors.js';

export interface SshTarget {
  user: string | null;
  host: string;
  port: number | null;
}

const SSH_USER = /^[A-Za-z0-9._][A-Za-z0-9._-]{0,31}$/;
const SSH_HOST = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$|^\[[0-9A-Fa-f:.]+\]$/;

/** Parses `ssh://[user@]host[:port]` (throws UsageError). */
export function parseSshTarget(text: string): SshTarget {
  let url: URL;
  try { url = new URL(text); } catch { throw new UsageError(`bad ssh target '${text}'`, 'use ssh://user@host or ssh://user@host:2222'); }
  if (url.protocol !== 'ssh:') throw new UsageError(`bad ssh target '${text}'`, 'use ssh://user@host or ssh://user@host:2222');
  const user = url.username === '' ? null : decodeURIComponent(url.username);
  const host = url.hostname;
  if (url.password !== '' || url.pathname !== '' && url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new UsageError(`bad ssh target '${text}': only user, host and port are allowed`, 'ssh keys or ssh-agent provide the authentication (no passwords in URLs)');
  }
  if (user !== null && !SSH_USER.test(user)) throw new UsageError(`bad ssh user '${user}'`, 'user names are letters, digits, . _ - (not starting with -)');
  if (!SSH_HOST.test(host)) throw new UsageError(`bad ssh host '${host}'`, 'a host name, an alias of ~/.ssh/config or an address, e.g. ssh://ec2-user@10.0.0.5');
  const port = url.port === '' ? null : Number(url.port);
  return { user, host, port };
}

/** `user@host` or `host` (what ssh takes as its destination). */
export function sshDestination(t: SshTarget): string {
  return t.user === null ? t.host : `${t.user}@${t.host}`;
}

/** `ssh://user@host:port` back as text. */
export function formatSshTarget(t: SshTarget): string {
  return `ssh://${t.user === null ? '' : `${t.user}@`}${t.host}${t.port === null ? '' : `:${t.port}`}`;
}
