/**
 * The names ELB gives access-log files in S3 (AWS: "Access log files"):
 *
 *   bucket[/prefix]/AWSLogs/aws-account-id/elasticloadbalancing/region/yyyy/mm/dd/
 *     aws-account-id_elasticloadbalancing_region_app.load-balancer-id_end-time_ip-address_random-string.log.gz
 *
 * One file per load-balancer node (ip-address) per 5-minute interval; end-time
 * (`20140215T2340Z`) closes the interval: the file holds requests from 23:35 to 23:40. The
 * load-balancer id's slashes are dots (`app.my-loadbalancer.50dc6c495c0c9188`). yyyy/mm/dd is
 * the delivery date.
 */

/** How often ELB delivers a node's file, and the interval each covers. */
export const DELIVERY_INTERVAL_MS = 5 * 60_000;

export interface AwsLogFileName {
  account: string;
  region: string;
  /** `app/my-loadbalancer/50dc6c495c0c9188` (the file name has dots for the slashes). */
  loadBalancer: string;
  /** The interval's end, epoch ms; the file covers (end − 5 min, end]. */
  intervalEndMs: number;
  /** The load-balancer node that wrote it (its public address for an internet-facing one). */
  nodeAddress: string;
  random: string;
}

const NAME = /^(\d{12})_elasticloadbalancing_([a-z0-9-]+)_((?:app|net)\.[^_]+)_(\d{8}T\d{4}Z)_([0-9a-fA-F.:]+)_([A-Za-z0-9]+)\.log(?:\.gz)?$/;

/** The parts of an ELB access-log file name (the last path segment), or null when it is not one. */
export function parseLogFileName(name: string): AwsLogFileName | null {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const m = NAME.exec(base);
  if (!m) return null;
  const t = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/.exec(m[4]!)!;
  const end = Date.UTC(Number(t[1]), Number(t[2]) - 1, Number(t[3]), Number(t[4]), Number(t[5]));
  // AWS pads the address's octets in its example (172.160.001.192): read them as numbers.
  const nodeAddress = m[5]!.includes('.') ? m[5]!.split('.').map((o) => String(Number(o))).join('.') : m[5]!;
  return { account: m[1]!, region: m[2]!, loadBalancer: m[3]!.replace(/\./g, '/'), intervalEndMs: end, nodeAddress, random: m[6]! };
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `20140215T2340Z`: the end of the 5-minute interval that holds `ms`. */
export function intervalEndText(ms: number): string {
  const end = new Date(Math.ceil(ms / DELIVERY_INTERVAL_MS) * DELIVERY_INTERVAL_MS);
  return `${end.getUTCFullYear()}${pad(end.getUTCMonth() + 1)}${pad(end.getUTCDate())}T${pad(end.getUTCHours())}${pad(end.getUTCMinutes())}Z`;
}

/** The S3 key of the file for one node and interval, as ELB names it (`prefix` without a trailing slash, or ''). */
export function logFileKey(f: { prefix: string; account: string; region: string; loadBalancer: string; intervalEndMs: number; nodeAddress: string; random: string }): string {
  const d = new Date(f.intervalEndMs);
  const day = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
  const name = `${f.account}_elasticloadbalancing_${f.region}_${f.loadBalancer.replace(/\//g, '.')}_${intervalEndText(f.intervalEndMs)}_${f.nodeAddress}_${f.random}.log.gz`;
  return `${f.prefix ? `${f.prefix}/` : ''}AWSLogs/${f.account}/elasticloadbalancing/${f.region}/${day}/${name}`;
}

/** The delivery-date folders (`yyyy/mm/dd`) that can hold the files for requests at these times. */
export function deliveryDays(timesMs: readonly number[]): string[] {
  const days = new Set<string>();
  for (const t of timesMs) {
    // The file is delivered after its interval ends, up to a few minutes later: the next day near midnight.
    for (const at of [t, t + 2 * DELIVERY_INTERVAL_MS]) {
      const d = new Date(at);
      days.add(`${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`);
    }
  }
  return [...days].sort();
}
