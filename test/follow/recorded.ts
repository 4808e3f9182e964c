/**
 * Results recorded in the lab (test/data/follow/NAME.json, written by the fault matrix and
 * the raw-fault test with UPDATE_GOLDEN=1): the client's evidence and the server's reading —
 * flow's analysis of the capture and the host facts, as the agent returned them. Read
 * again, they go through the same code as a live run: serverEvidence, then decideVerdict.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { configEvidence, decideVerdict, readingOf, sentRequests, serverEvidence, type AwsEvidence, type FollowEvidence, type FollowResult } from '../../src/follow/index.js';
import { describeParts, type AwsSnapshot } from '../../src/aws/index.js';
import { RECORDED_DIR } from './expected.js';

/** The names of the recorded results (file names without `.json`). */
export function recordedNames(): string[] {
  return readdirSync(RECORDED_DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

export function hasRecorded(name: string): boolean {
  return existsSync(path.join(RECORDED_DIR, `${name}.json`));
}

/** The recorded result as it was saved (its verdict is the one of the run that recorded it). */
export function savedResult(name: string): FollowResult {
  return JSON.parse(readFileSync(path.join(RECORDED_DIR, `${name}.json`), 'utf8')) as FollowResult;
}

/**
 * Evidence → verdict again: the server side re-read from its reading (`noServer`: as if no
 * --server was given), the configuration's paths evaluated again from the part of it the
 * result kept (`aws`: another configuration instead, e.g. the lab's for a fault; null: none).
 */
export function rederive(saved: FollowResult, options: { noServer?: boolean; aws?: AwsSnapshot | null } = {}): FollowResult {
  const { verdict: _recorded, aws: savedAws, ...ev } = saved;
  let server = options.noServer ? null : ev.server;
  const reading = server ? readingOf(server) : null;
  if (server && reading) server = serverEvidence(reading, sentRequests(ev.requests, ev.options.timeoutMs));
  const packets = { ...ev, server, options: { ...ev.options, server: options.noServer ? null : ev.options.server } };
  const snapshot = options.aws !== undefined ? options.aws : savedAws?.snapshot ?? null;
  let aws: AwsEvidence | null = options.aws === undefined && savedAws?.status === 'error' ? savedAws : null;
  if (snapshot) {
    aws = configEvidence({ snapshot, source: savedAws?.source ?? 'snapshot', from: savedAws?.from ?? 'recorded', ...describeParts(snapshot) }, packets, savedAws?.query.loadBalancer ?? null);
  }
  const evidence: FollowEvidence = { ...packets, aws };
  return { ...evidence, verdict: decideVerdict(evidence) };
}

/** A recorded result, read again through today's code. */
export function recordedResult(name: string, options: { noServer?: boolean; aws?: AwsSnapshot | null } = {}): FollowResult {
  return rederive(savedResult(name), options);
}
