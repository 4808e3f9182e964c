/**
 * Which netfilter hooks reach a chain: a base chain has its own hook (iptables' built-in
 * chains, nft chains with `hook`); a user chain has the hooks of every chain that reaches it
 * through jumps and gotos (DOCKER-USER is jumped to from FORWARD → `forward`).
 */

/** The hooks in packet order, the order hooks are listed in. */
export const HOOK_ORDER = ['ingress', 'prerouting', 'input', 'forward', 'output', 'postrouting', 'egress'] as const;

/** iptables' built-in chains and their hooks. */
export const BUILTIN_CHAIN_HOOKS: Readonly<Record<string, string>> = {
  PREROUTING: 'prerouting', INPUT: 'input', FORWARD: 'forward', OUTPUT: 'output', POSTROUTING: 'postrouting',
};

function hookRank(h: string): number {
  const i = (HOOK_ORDER as readonly string[]).indexOf(h);
  return i < 0 ? HOOK_ORDER.length : i;
}

/**
 * chain → hooks reaching it. `own`: the base chains' hooks; `edges`: chain → chains it jumps
 * or goes to. A chain nothing reaches gets [].
 */
export function reachingHooks(own: ReadonlyMap<string, readonly string[]>, edges: ReadonlyMap<string, ReadonlySet<string>>): Map<string, string[]> {
  const reached = new Map<string, Set<string>>();
  for (const [chain, hooks] of own) {
    for (const hook of hooks) {
      // Walk from each base chain; `seen` stops cycles (a user chain may jump back).
      const seen = new Set<string>();
      const stack = [chain];
      while (stack.length > 0) {
        const c = stack.pop() as string;
        if (seen.has(c)) continue;
        seen.add(c);
        let set = reached.get(c);
        if (!set) { set = new Set(); reached.set(c, set); }
        set.add(hook);
        for (const next of edges.get(c) ?? []) stack.push(next);
      }
    }
  }
  const out = new Map<string, string[]>();
  for (const [chain, set] of reached) out.set(chain, [...set].sort((a, b) => hookRank(a) - hookRank(b)));
  return out;
}
