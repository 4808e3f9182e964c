/**
 * Empties an array and keeps its backing store for the next pushes (`length = 0` would give
 * it up: V8 then allocates a new one at the next push). For the arrays of pooled objects.
 */
export function empty(a: unknown[]): void {
  while (a.length > 0) a.pop();
}
