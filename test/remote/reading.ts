/**
 * What must be the same whichever way the server side ran — the agent, or the agentless path
 * over ssh. Times, client ports and trace ids differ between two runs and are left out.
 *
 * `exact` (a quiet host, one request): the verdict and everything the server side saw — ports,
 * NAT, each interface's sightings, each request's journey step by step, its break and cause.
 * `lab` (two ALB nodes whose health checks also connect, DNS answers in turn): the verdict —
 * exit code, failing layer, rows, cause, direction, the failing load-balancer nodes, the break
 * and the facts behind it (a route lookup without its address: which ALB node DNS gave first
 * varies) — the journeys (without a FIN after a reset) of the requests found by their trace id (those found
 * by timing may pick another connection of the window from one run to the next), the ports
 * followed and the namespaces the host facts were read in.
 */
import type { FollowResult } from '../../src/follow/index.js';

type Cause = NonNullable<NonNullable<FollowResult['server']>['requests'][number]['cause']>;

function factText(f: Cause['facts'][number], how: 'exact' | 'lab' = 'exact'): string {
  if (f.kind === 'rule') return `rule ${f.rule.text}`;
  // In the lab, which ALB node's address a route lookup names depends on which one DNS gave first.
  if (f.kind === 'route') return how === 'lab' ? `route ${f.lookup.result}` : `route ${f.lookup.to} ${f.lookup.result}`;
  if (f.kind === 'listeners') return `listeners ${f.address}:${f.port}`;
  if (f.kind === 'sysctl') return `sysctl ${f.name}=${f.value}`;
  if (f.kind === 'counter') return `counter ${f.name}`;
  if (f.kind === 'link') return `link ${f.link.name} ${f.link.up}`;
  return f.kind;
}

export function reading(r: FollowResult, how: 'exact' | 'lab' = 'exact'): unknown {
  const v = r.verdict;
  const sv = r.server;
  const requests = [...(sv?.requests ?? [])].sort((a, b) => a.address.localeCompare(b.address));
  const brk = (b: { kind: string; way: string; packet: string; after: { interface: string } | null; at: { interface: string } | null } | null): string | null =>
    b && `${b.kind} ${b.way} ${b.packet} after ${b.after?.interface ?? '-'} at ${b.at?.interface ?? '-'}`;
  // In time order, but the two FINs last and sorted: which side closes first is a race of the run.
  // In the lab, a FIN after a reset is left out: a FIN the server sent before the request
  // (keepalive-race's, held in the VPC and sent again on its own clock) falls in the capture
  // window in one run and not in the next.
  const steps = (q: (typeof requests)[number]): string[] | null => {
    const reset = how === 'lab' && (q.journey?.steps.some((st) => st.packet === 'rst') ?? false);
    const all = q.journey?.steps.filter((st) => !(reset && st.packet === 'fin')).map((st) => ({ fin: st.packet === 'fin', text: `${st.way} ${st.packet} ${st.status}: ${st.seen.map((x) => `${x.interface} ${x.direction}`).join(', ')}${st.missingAt ? ` ✗ ${st.missingAt.interface}` : ''}` }));
    return all ? [...all.filter((x) => !x.fin).map((x) => x.text), ...all.filter((x) => x.fin).map((x) => x.text).sort()] : null;
  };
  const verdict = {
    exitCode: v.exitCode, firstFailing: v.firstFailing, causeId: v.causeId, direction: v.direction,
    rows: v.rows.map((x) => `${x.layer} ${x.status}`),
    partial: v.partial && v.partial.failing.map((f) => `${f.address} ${f.node ?? ''} ${f.layer} ${f.causeId}`).sort(),
    break: brk(v.break), facts: v.facts.map((f) => factText(f, how)),
  };
  if (how === 'lab') {
    return {
      verdict,
      server: sv && {
        status: sv.status, ports: sv.ports,
        byTraceId: requests.filter((q) => q.matchedBy === 'trace-id').map((q) => ({ address: q.address, steps: steps(q), break: brk(q.break), cause: q.cause && { id: q.cause.id, facts: q.cause.facts.map((f) => factText(f, how)) } })),
        namespaces: sv.host?.namespaces.map((n) => `${n.ns.role} ${n.ns.label}`) ?? null,
      },
    };
  }
  return {
    verdict,
    server: sv && {
      status: sv.status, matchedBy: sv.matchedBy, ports: sv.ports, nat: sv.nat,
      interfaces: sv.interfaces.map((i) => `${i.iface} ${i.role} request=${i.request} response=${i.responseStatus} syn=${i.syn > 0} synAck=${i.synAck > 0} rst=${i.rstBack > 0}`),
      requests: requests.map((q) => ({
        matchedBy: q.matchedBy, steps: steps(q), break: brk(q.break),
        cause: q.cause && { id: q.cause.id, namespace: q.cause.namespace, facts: q.cause.facts.map((f) => factText(f)) },
      })),
      namespaces: sv.host?.namespaces.map((n) => `${n.ns.role} ${n.ns.label}`) ?? null,
    },
  };
}
