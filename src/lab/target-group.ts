/**
 * The ALB node's target group: its targets, their health as the node's health checks find
 * it, and which target a request goes to — as AWS documents them
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html):
 *
 *  1. A registered target starts `initial` (Elb.RegistrationInProgress); its first passing
 *     check puts it in service (`healthy`).
 *  2. `healthy` → `unhealthy` after `unhealthyThreshold` consecutive failed checks; the
 *     reason is the last failure's: Target.ResponseCodeMismatch (a status outside the
 *     matcher), Target.Timeout (no answer within the check's timeout), Target.FailedHealthChecks
 *     (the connection failed: refused, reset).
 *  3. `unhealthy` → `healthy` after `healthyThreshold` consecutive passing checks.
 *  4. A deregistered target is `draining` (Target.DeregistrationInProgress) for the
 *     deregistration delay: no new requests, no health checks; then it leaves the group.
 *  5. Routing: the in-service targets the node may use — all zones' with cross-zone load
 *     balancing on (AWS's default), its own zone's with it off — round robin. When none of
 *     them is healthy the node fails open: it routes to all of them whatever their health.
 *     None at all (nothing registered, all draining, none in its zone): 503.
 */
import http from 'node:http';
import { LAB } from './topology.js';

export interface AlbTarget {
  ip: string;
  port: number;
  /** The instance's name (`ec2-a`), for status and logs. */
  name?: string;
  /** Its availability zone. */
  zone?: string;
  /** Deregistered: draining for the deregistration delay. */
  draining?: boolean;
}

export interface AlbHealthCheck {
  path: string;
  /** The port checked: the traffic port (null) or another one (HealthCheckPort). */
  port?: number | null;
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  /** Status codes counted as healthy. */
  matcher: number[];
}

export type TargetHealthState = 'initial' | 'healthy' | 'unhealthy' | 'draining';

export interface TargetHealth {
  /** `ip:port`. */
  target: string;
  name: string | null;
  zone: string | null;
  state: TargetHealthState;
  /** AWS's reason code (`Target.Timeout`, `Target.ResponseCodeMismatch`, …); null when healthy. */
  reason: string | null;
  /** AWS's description of the reason (`Health checks failed with these codes: [404]`). */
  description: string | null;
  lastCheck: string | null;
}

/** The descriptions AWS gives with each reason code (describe-target-health). */
export const REASON_DESCRIPTION: Record<string, string> = {
  'Elb.RegistrationInProgress': 'Target registration is in progress',
  'Elb.InitialHealthChecking': 'Initial health checks in progress',
  'Target.Timeout': 'Request timed out',
  'Target.FailedHealthChecks': 'Health checks failed',
  'Target.DeregistrationInProgress': 'Target deregistration is in progress',
};

interface HealthRecord extends TargetHealth {
  successes: number;
  failures: number;
  drainTimer: NodeJS.Timeout | null;
}

/** One check's outcome: null when it passed, else AWS's reason and description. */
type CheckResult = { reason: string; description: string } | null;

const key = (t: AlbTarget): string => `${t.ip}:${t.port}`;

/** One health check: a new connection, `GET path` with ELB's User-Agent, judged by the matcher. */
export function checkTarget(t: AlbTarget, hc: AlbHealthCheck): Promise<CheckResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: CheckResult): void => { if (!settled) { settled = true; resolve(r); } };
    const port = hc.port ?? t.port;
    const req = http.get({ host: t.ip, port, path: hc.path, agent: false, headers: { 'User-Agent': 'ELB-HealthChecker/2.0', Connection: 'close' } }, (res) => {
      res.resume();
      const status = res.statusCode ?? 0;
      finish(hc.matcher.includes(status) ? null : { reason: 'Target.ResponseCodeMismatch', description: `Health checks failed with these codes: [${status}]` });
    });
    const timer = setTimeout(() => { req.destroy(); finish({ reason: 'Target.Timeout', description: REASON_DESCRIPTION['Target.Timeout']! }); }, hc.timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', () => finish({ reason: 'Target.FailedHealthChecks', description: REASON_DESCRIPTION['Target.FailedHealthChecks']! }));
  });
}

export interface TargetGroupOptions {
  targets: AlbTarget[];
  healthCheck: AlbHealthCheck;
  deregistrationDelayMs: number;
  /** The node's zone (cross-zone off: only targets there). */
  zone: string | null;
  crossZone: boolean;
  failOpen: boolean;
  /** Called whenever a target's health changes (the node writes its health file). */
  onChange: () => void;
}

export class TargetGroup {
  private opts: TargetGroupOptions;
  private readonly health = new Map<string, HealthRecord>();
  private targets: AlbTarget[] = [];
  private rr = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | null = null;
  /** Settles when the first round of health checks is done. */
  readonly firstChecks: Promise<void>;

  constructor(opts: TargetGroupOptions) {
    this.opts = opts;
    this.sync(opts.targets);
    let done: () => void = () => {};
    this.firstChecks = new Promise((r) => { done = r; });
    const loop = async (): Promise<void> => {
      await this.checkAll();
      done();
      if (!this.stopped) this.timer = setTimeout(() => { void loop(); }, this.opts.healthCheck.intervalMs);
    };
    void loop();
  }

  /** New settings (a reload): targets registered, deregistered (draining) or gone; checks; cross-zone. */
  reconfigure(next: Partial<Omit<TargetGroupOptions, 'onChange'>>): void {
    this.opts = { ...this.opts, ...Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined)) };
    if (next.targets) this.sync(next.targets);
    this.opts.onChange();
  }

  private sync(targets: AlbTarget[]): void {
    const wanted = new Map(targets.map((t) => [key(t), t]));
    for (const [k, h] of [...this.health]) {
      if (!wanted.has(k)) { if (h.drainTimer) clearTimeout(h.drainTimer); this.health.delete(k); }
    }
    for (const t of targets) {
      const k = key(t);
      let h = this.health.get(k);
      if (!h) {
        h = { target: k, name: t.name ?? null, zone: t.zone ?? null, state: 'initial', reason: 'Elb.RegistrationInProgress', description: REASON_DESCRIPTION['Elb.RegistrationInProgress']!, lastCheck: null, successes: 0, failures: 0, drainTimer: null };
        this.health.set(k, h);
      }
      if (t.draining && h.state !== 'draining') {
        // 4. Draining: no new requests, no checks; out of the group after the delay.
        h.state = 'draining'; h.reason = 'Target.DeregistrationInProgress'; h.description = REASON_DESCRIPTION['Target.DeregistrationInProgress']!;
        h.drainTimer = setTimeout(() => { this.targets = this.targets.filter((x) => key(x) !== k); this.health.delete(k); this.opts.onChange(); }, this.opts.deregistrationDelayMs);
        h.drainTimer.unref();
      } else if (!t.draining && h.state === 'draining') {
        // Registered again: a new registration.
        if (h.drainTimer) clearTimeout(h.drainTimer);
        Object.assign(h, { state: 'initial', reason: 'Elb.RegistrationInProgress', description: REASON_DESCRIPTION['Elb.RegistrationInProgress']!, successes: 0, failures: 0, drainTimer: null });
      }
    }
    this.targets = targets.map((t) => ({ ...t }));
  }

  private async checkAll(): Promise<void> {
    if (this.stopped) return;
    const hc = this.opts.healthCheck;
    await Promise.all(this.targets.map(async (t) => {
      const h = this.health.get(key(t));
      if (!h || h.state === 'draining') return;
      const result = await checkTarget(t, hc);
      if (this.health.get(key(t)) !== h || (h.state as TargetHealthState) === 'draining') return;
      const before = `${h.state} ${h.reason}`;
      h.lastCheck = new Date().toISOString();
      if (result === null) {
        h.successes++; h.failures = 0;
        // 1, 3.
        if (h.state === 'initial' || (h.state === 'unhealthy' && h.successes >= hc.healthyThreshold)) { h.state = 'healthy'; h.reason = null; h.description = null; }
      } else {
        h.failures++; h.successes = 0;
        // 2. A target not yet in service keeps `initial` until it fails the threshold too.
        if (h.failures >= hc.unhealthyThreshold) { h.state = 'unhealthy'; h.reason = result.reason; h.description = result.description; }
        else if (h.state === 'unhealthy') { h.reason = result.reason; h.description = result.description; }
      }
      if (before !== `${h.state} ${h.reason}` || result !== null) this.opts.onChange();
    }));
  }

  /** 5. The target for the next request, or null (503). */
  choose(): AlbTarget | null {
    const inGroup = this.targets.filter((t) => this.health.get(key(t))?.state !== 'draining');
    const eligible = this.opts.crossZone || this.opts.zone === null ? inGroup : inGroup.filter((t) => (t.zone ?? null) === this.opts.zone);
    if (eligible.length === 0) return null;
    const healthy = eligible.filter((t) => this.health.get(key(t))?.state === 'healthy');
    const pool = healthy.length > 0 ? healthy : this.opts.failOpen ? eligible : [];
    if (pool.length === 0) return null;
    this.rr = (this.rr + 1) % pool.length;
    return pool[this.rr]!;
  }

  status(): TargetHealth[] {
    return [...this.health.values()].map(({ target, name, zone, state, reason, description, lastCheck }) => ({ target, name, zone, state, reason, description, lastCheck }));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const h of this.health.values()) if (h.drainTimer) clearTimeout(h.drainTimer);
  }
}

/** The JSON of `aws elbv2 describe-target-health` (the fields the lab has). */
export interface DescribeTargetHealth {
  TargetHealthDescriptions: Array<{
    Target: { Id: string; Port: number; AvailabilityZone?: string };
    HealthCheckPort: string;
    TargetHealth: { State: string; Reason?: string; Description?: string };
  }>;
}

/**
 * The target group's health as AWS reports it: one entry per target. AWS joins its nodes'
 * checks; here a target is as the worst view of it is (unhealthy on any node → unhealthy).
 */
export function describeTargetHealth(nodes: ReadonlyArray<{ healthCheck: AlbHealthCheck | null; targets: readonly TargetHealth[] }>): DescribeTargetHealth {
  const rank: Record<string, number> = { unhealthy: 4, draining: 3, initial: 2, healthy: 1 };
  const byTarget = new Map<string, { h: TargetHealth; port: string }>();
  for (const n of nodes) {
    for (const h of n.targets) {
      const have = byTarget.get(h.target);
      if (!have || (rank[h.state] ?? 0) > (rank[have.h.state] ?? 0)) byTarget.set(h.target, { h, port: String(n.healthCheck?.port ?? h.target.split(':').pop()) });
    }
  }
  return {
    TargetHealthDescriptions: [...byTarget.values()].map(({ h, port }) => {
      const [ip, p] = [h.target.slice(0, h.target.lastIndexOf(':')), Number(h.target.slice(h.target.lastIndexOf(':') + 1))];
      return {
        // The lab's target group is of target type `ip`: a target's Id is its address.
        Target: { Id: ip, Port: p, ...(h.zone ? { AvailabilityZone: `${LAB.region}${h.zone}` } : {}) },
        HealthCheckPort: port,
        TargetHealth: { State: h.state, ...(h.reason ? { Reason: h.reason } : {}), ...(h.description ? { Description: h.description } : {}) },
      };
    }),
  };
}
