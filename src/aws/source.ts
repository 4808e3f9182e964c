/**
 * Where a configuration comes from: a folder of AWS CLI outputs, the AWS API, or a snapshot
 * already in memory (the lab's, a recorded result's). One loader for follow and the CLI.
 */
import { fetchAwsConfig, type AwsApiOptions } from './api.js';
import { AWS_COMMANDS, readAwsConfigDir } from './files.js';
import type { AwsSnapshot } from './types.js';

export type AwsConfigSource =
  | { kind: 'files'; dir: string }
  | ({ kind: 'api' } & AwsApiOptions)
  | { kind: 'snapshot'; snapshot: AwsSnapshot; from: string };

export interface LoadedAwsConfig {
  snapshot: AwsSnapshot;
  source: AwsConfigSource['kind'];
  /** The folder read, `api` (with its region/profile when given), or the snapshot's name. */
  from: string;
  /** The describe outputs it holds, and those it does not (a hop that needs one is not determinable). */
  read: string[];
  missing: string[];
}

export function describeParts(s: AwsSnapshot): { read: string[]; missing: string[] } {
  const read: string[] = [];
  const missing: string[] = [];
  for (const c of AWS_COMMANDS) (s[c.part] === null ? missing : read).push(c.command);
  return { read, missing };
}

export async function loadAwsConfig(src: AwsConfigSource): Promise<LoadedAwsConfig> {
  switch (src.kind) {
    case 'files': {
      const { snapshot } = readAwsConfigDir(src.dir);
      return { snapshot, source: 'files', from: src.dir, ...describeParts(snapshot) };
    }
    case 'api': {
      const snapshot = await fetchAwsConfig(src);
      const where = [src.profile ? `profile ${src.profile}` : null, src.region ? `region ${src.region}` : null, src.loadBalancer ? `load balancer ${src.loadBalancer}` : null].filter(Boolean);
      return { snapshot, source: 'api', from: `api${where.length ? ` (${where.join(', ')})` : ''}`, ...describeParts(snapshot) };
    }
    case 'snapshot':
      return { snapshot: src.snapshot, source: 'snapshot', from: src.from, ...describeParts(src.snapshot) };
  }
}
