/**
 * Reading access logs where they are: one file (plain or gzip), a directory of them (the
 * S3 layout copied down, or the lab's live files), or `s3://bucket/prefix` through the AWS
 * SDK (`@aws-sdk/client-s3`, loaded only when an s3:// source is read). Lines are streamed:
 * only the records whose trace id Root is asked for are kept, with each file's time span
 * (what the log covers, to say when it cannot hold a request).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { InputError } from '../errors.js';
import { accessLogMs, parseAccessLogLine, traceRootOf, type AccessLogRecord } from './format.js';
import { DELIVERY_INTERVAL_MS, deliveryDays, parseLogFileName } from './files.js';

/** One file (or S3 object) read. */
export interface AccessLogFile {
  /** Its path, or `s3://bucket/key`. */
  name: string;
  /** The node that wrote it: the address in an ELB file name, else the file's base name (`alb-a.access.log` → `alb-a`). */
  node: string | null;
  /** The end of the file's 5-minute interval (ELB file names), ISO 8601; null for other files. */
  intervalEnd: string | null;
  lines: number;
  /** Lines that are not access-log lines. */
  unparsed: number;
  /** The times of its first and last lines (ISO 8601), null when it has none. */
  firstTime: string | null;
  lastTime: string | null;
}

/** A record found, with the file it came from. */
export interface FoundRecord {
  record: AccessLogRecord;
  file: string;
}

export interface AccessLogScan {
  /** What was asked: the path or the s3:// URL. */
  source: string;
  files: AccessLogFile[];
  /** Records whose trace id Root was asked for, in reading order. */
  found: FoundRecord[];
  /** Files or keys that could not be read, one line each. */
  problems: string[];
  /** ELB files left unread because their interval cannot hold the requests (what they cover still tells when the log starts and ends). */
  skipped: { files: number; firstIntervalEnd: string | null; lastIntervalEnd: string | null };
}

/** The S3 calls the reader makes (the SDK in production, scripted in tests). */
export interface S3Objects {
  /** Keys and sub-prefixes directly under `prefix` (delimiter `/`), every page. */
  list(bucket: string, prefix: string): Promise<{ keys: string[]; prefixes: string[] }>;
  get(bucket: string, key: string): Promise<Uint8Array>;
}

export interface ScanOptions {
  /** The trace id Roots to keep records of. */
  roots: ReadonlySet<string>;
  /** When the requests were sent (epoch ms): which ELB files (by their interval) to read. */
  sentAtMs: readonly number[];
  /** The S3 client (default: the AWS SDK's, with the SDK's credentials). */
  s3?: S3Objects;
  /** Files read at most (a directory, an S3 prefix). */
  maxFiles?: number;
}

/** Files read at most from a directory or a prefix (a day of one busy load balancer is ~600 files). */
export const MAX_FILES = 2000;
/** An ELB file whose interval ends this long before a request, or this long after, cannot hold it. */
const BEFORE_MS = 60_000;
const AFTER_MS = 2 * DELIVERY_INTERVAL_MS;

/** `s3://bucket/prefix` → its parts, or null when the source is not an S3 URL. */
export function parseS3Url(source: string): { bucket: string; prefix: string } | null {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,62})(?:\/(.*))?$/.exec(source);
  if (!m) return null;
  return { bucket: m[1]!, prefix: (m[2] ?? '').replace(/^\/+|\/+$/g, '') };
}

/** The node a file's records come from: the ELB file name's address, else its base name. */
export function nodeOfFile(name: string): string | null {
  const aws = parseLogFileName(name);
  if (aws) return aws.nodeAddress;
  const base = path.basename(name).replace(/(\.gz)$/, '').replace(/(\.access)?\.log$/, '');
  return base || null;
}

/** True when an ELB file's interval can hold one of the requests (non-ELB files: always). */
function inWindow(name: string, sentAtMs: readonly number[]): boolean {
  const aws = parseLogFileName(name);
  if (!aws || sentAtMs.length === 0) return true;
  return sentAtMs.some((t) => aws.intervalEndMs >= t - BEFORE_MS && aws.intervalEndMs <= t + AFTER_MS);
}

/** Counts an ELB file left unread (out of the requests' window). */
function skip(out: AccessLogScan, name: string): void {
  const aws = parseLogFileName(name);
  if (!aws) return;
  const end = new Date(aws.intervalEndMs).toISOString();
  out.skipped.files++;
  if (out.skipped.firstIntervalEnd === null || end < out.skipped.firstIntervalEnd) out.skipped.firstIntervalEnd = end;
  if (out.skipped.lastIntervalEnd === null || end > out.skipped.lastIntervalEnd) out.skipped.lastIntervalEnd = end;
}

/** Reads one stream of lines; keeps the records asked for. */
async function scanLines(input: NodeJS.ReadableStream, name: string, opts: ScanOptions, out: AccessLogScan): Promise<void> {
  const aws = parseLogFileName(name);
  const node = nodeOfFile(name);
  const file: AccessLogFile = { name, node, intervalEnd: aws ? new Date(aws.intervalEndMs).toISOString() : null, lines: 0, unparsed: 0, firstTime: null, lastTime: null };
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let first = Infinity;
  let last = -Infinity;
  for await (const line of rl) {
    if (line === '') continue;
    file.lines++;
    const r = parseAccessLogLine(line, node ?? '');
    if (!r) { file.unparsed++; continue; }
    const t = accessLogMs(r.time);
    if (t !== null) {
      if (t < first) { first = t; file.firstTime = r.time; }
      if (t > last) { last = t; file.lastTime = r.time; }
    }
    const root = traceRootOf(r.traceId);
    if (root !== null && opts.roots.has(root)) out.found.push({ record: r, file: name });
  }
  out.files.push(file);
}

/** A file's bytes as a line stream, gunzipped when it is gzip (by its magic, whatever its name). */
function lineStream(raw: Readable, gzip: boolean): Readable {
  return gzip ? raw.pipe(zlib.createGunzip()) : raw;
}

async function isGzipFile(file: string): Promise<boolean> {
  const fd = await fs.promises.open(file, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fd.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fd.close();
  }
}

async function scanFile(file: string, opts: ScanOptions, out: AccessLogScan): Promise<void> {
  try {
    const gzip = await isGzipFile(file);
    const stream = lineStream(fs.createReadStream(file), gzip);
    const failed = new Promise<never>((_, reject) => stream.once('error', reject));
    await Promise.race([scanLines(stream, file, opts, out), failed]);
  } catch (err) {
    out.problems.push(`${file}: ${(err as Error).message}`);
  }
}

/** Log files under a directory (recursively, bounded), sorted by name. */
function listDirectory(dir: string, max: number): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number): void => {
    if (depth > 12 || out.length >= max) return;
    let entries: fs.Dirent[];
    try { entries = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, depth + 1);
      else if (e.isFile() && /\.log(\.gz)?$|\.gz$/.test(e.name)) out.push(p);
      if (out.length >= max) return;
    }
  };
  walk(dir, 0);
  return out;
}

/** The keys of the ELB files under an S3 prefix that can hold the requests: walks AWSLogs/ACCOUNT/elasticloadbalancing/REGION/yyyy/mm/dd/. */
export async function s3LogKeys(s3: S3Objects, bucket: string, prefix: string, sentAtMs: readonly number[], max = MAX_FILES, skipped: (key: string) => void = () => {}): Promise<string[]> {
  const days = deliveryDays(sentAtMs);
  const dayDirs: string[] = [];
  const slash = (p: string): string => (p === '' || p.endsWith('/') ? p : `${p}/`);
  if (/(^|\/)AWSLogs\/\d{12}\/elasticloadbalancing\/[^/]+\/\d{4}\/\d{2}\/\d{2}$/.test(prefix)) {
    dayDirs.push(slash(prefix));
  } else if (/(^|\/)AWSLogs\/\d{12}\/elasticloadbalancing\/[^/]+$/.test(prefix)) {
    for (const d of days) dayDirs.push(`${slash(prefix)}${d}/`);
  } else {
    const awsLogs = /(^|\/)AWSLogs$/.test(prefix) ? slash(prefix) : `${slash(prefix)}AWSLogs/`;
    const accounts = /(^|\/)AWSLogs\/\d{12}$/.test(prefix) ? [slash(prefix)] : (await s3.list(bucket, awsLogs)).prefixes;
    for (const account of accounts) {
      for (const region of (await s3.list(bucket, `${slash(account)}elasticloadbalancing/`)).prefixes) {
        for (const d of days) dayDirs.push(`${slash(region)}${d}/`);
      }
    }
  }
  const keys: string[] = [];
  for (const dir of dayDirs) {
    for (const key of (await s3.list(bucket, dir)).keys) {
      if (!parseLogFileName(key)) continue;
      if (inWindow(key, sentAtMs)) keys.push(key);
      else skipped(key);
      if (keys.length >= max) return keys;
    }
  }
  return keys;
}

/** Loads the AWS SDK's S3 module (a variable specifier: it is a runtime dependency of this one path, not of the build). */
const loadS3Sdk = (): Promise<unknown> => { const specifier = '@aws-sdk/client-s3'; return import(specifier); };

/** The AWS SDK's S3 client behind the S3Objects seam; the package is loaded only now (`load`: how, for tests). */
export async function sdkS3Objects(load: () => Promise<unknown> = loadS3Sdk): Promise<S3Objects> {
  let sdk: {
    S3Client: new (config: Record<string, unknown>) => { send(command: unknown): Promise<Record<string, unknown>> };
    ListObjectsV2Command: new (input: Record<string, unknown>) => unknown;
    GetObjectCommand: new (input: Record<string, unknown>) => unknown;
  };
  try {
    sdk = await load() as typeof sdk;
  } catch {
    throw new InputError('reading access logs from S3 needs the AWS SDK (@aws-sdk/client-s3), which is not installed', 'npm install @aws-sdk/client-s3 next to flowtrace, or copy the logs down (`aws s3 cp --recursive s3://… DIR`) and give --alb-log DIR');
  }
  const client = new sdk.S3Client({});
  return {
    async list(bucket, prefix) {
      const keys: string[] = [];
      const prefixes: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new sdk.ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token })) as {
          Contents?: Array<{ Key?: string }>; CommonPrefixes?: Array<{ Prefix?: string }>; NextContinuationToken?: string; IsTruncated?: boolean;
        };
        for (const c of page.Contents ?? []) if (c.Key) keys.push(c.Key);
        for (const p of page.CommonPrefixes ?? []) if (p.Prefix) prefixes.push(p.Prefix);
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return { keys, prefixes };
    },
    async get(bucket, key) {
      const r = await client.send(new sdk.GetObjectCommand({ Bucket: bucket, Key: key })) as { Body?: { transformToByteArray(): Promise<Uint8Array> } };
      if (!r.Body) throw new Error('empty object');
      return r.Body.transformToByteArray();
    },
  };
}

/** Throws when a local source cannot be read at all (checked before a walk starts); s3:// sources are checked when read. */
export function checkAccessLogSource(source: string): void {
  if (parseS3Url(source)) return;
  if (source.startsWith('s3:')) throw new InputError(`bad S3 URL '${source}'`, 'give s3://BUCKET/PREFIX (the prefix the load balancer writes under, or one of its AWSLogs/… folders)');
  try {
    fs.accessSync(source, fs.constants.R_OK);
  } catch (err) {
    throw new InputError(`cannot read the access log ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'give a log file, a directory of the load balancer\'s .log.gz files, or s3://BUCKET/PREFIX');
  }
}

/**
 * Reads the access log at `source` (a file, a directory, or s3://bucket/prefix) and keeps the
 * records of the requests asked for (by trace id Root). Files that cannot be read are
 * listed in `problems`; an S3 source that cannot be listed at all throws.
 */
export async function scanAccessLogs(source: string, opts: ScanOptions): Promise<AccessLogScan> {
  const out: AccessLogScan = { source, files: [], found: [], problems: [], skipped: { files: 0, firstIntervalEnd: null, lastIntervalEnd: null } };
  const max = opts.maxFiles ?? MAX_FILES;
  const s3url = parseS3Url(source);
  if (s3url) {
    const s3 = opts.s3 ?? await sdkS3Objects();
    let keys: string[];
    try {
      keys = await s3LogKeys(s3, s3url.bucket, s3url.prefix, opts.sentAtMs, max, (k) => skip(out, k));
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(`cannot list ${source}: ${(err as Error).message}`, 'check the AWS credentials (`aws sts get-caller-identity`), the region and s3:ListBucket on the bucket');
    }
    for (const key of keys) {
      const name = `s3://${s3url.bucket}/${key}`;
      try {
        const bytes = Buffer.from(await s3.get(s3url.bucket, key));
        const gzip = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
        await scanLines(lineStream(Readable.from([bytes]), gzip), name, opts, out);
      } catch (err) {
        out.problems.push(`${name}: ${(err as Error).message}`);
      }
    }
    return out;
  }
  let stat: fs.Stats;
  try {
    stat = fs.statSync(source);
  } catch (err) {
    throw new InputError(`cannot read the access log ${source}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'give a log file, a directory of the load balancer\'s .log.gz files, or s3://BUCKET/PREFIX');
  }
  const all = stat.isDirectory() ? listDirectory(source, max) : [source];
  const files: string[] = [];
  for (const f of all) {
    if (inWindow(f, opts.sentAtMs)) files.push(f);
    else skip(out, f);
  }
  for (const f of files) await scanFile(f, opts, out);
  return out;
}
