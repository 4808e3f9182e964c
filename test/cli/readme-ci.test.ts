/** The README's first block gives the two commands; CI (.ci/run) must run its test command as written. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/self.js';

test("README's test command is what .ci/run runs, verbatim", () => {
  const readme = readFileSync(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const block = /^```\n([\s\S]*?)\n```$/m.exec(readme);
  assert.ok(block, 'README has a first code block');
  const [demo, tests] = block[1].split('\n');
  assert.match(demo, /^bash scripts\/demo\.sh\b/);
  assert.match(tests, /^bash scripts\/test\.sh\b/);
  const ci = readFileSync(path.join(PACKAGE_ROOT, '.ci', 'run'), 'utf8').split('\n');
  assert.ok(ci.includes(tests), `.ci/run has the line ${JSON.stringify(tests)}`);
  // Everything else in .ci/run is set-up: comments, the shell options and the cd to the repo.
  for (const l of ci) if (l !== tests && l.trim() !== '') assert.match(l, /^(#|set -euo pipefail$|cd "\$\(dirname "\$0"\)\/\.\."$)/, l);
});
