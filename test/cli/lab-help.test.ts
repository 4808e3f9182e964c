/**
 * `flowtrace lab SUB --help` prints the lab's usage and exits 0 without doing SUB (it was a
 * usage error, and `lab fault --help` got node's message about positionals after '--').
 * `--help` after `lab exec NODE` belongs to the command run in the node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';

test('lab SUB --help / -h: the usage, exit 0, nothing done', async () => {
  for (const args of [['up', '--help'], ['up', '--json', '-h'], ['down', '--help'], ['status', '-h'], ['fault', '--help'], ['fault', 'app-down', '--help'], ['heal', '-h'], ['faults', '--help'], ['log', '--help'], ['exec', '--help']]) {
    const io = memoryIO();
    const code = await main(['lab', ...args], io);
    assert.equal(code, EXIT.ok, `${args.join(' ')}: ${io.err.join('')}`);
    assert.match(io.out.join(''), /^usage: flowtrace lab SUBCOMMAND/, args.join(' '));
    assert.equal(io.err.join(''), '');
  }
});

test("lab exec NODE … --help: the command's flag, not lab's help", async () => {
  const io = memoryIO();
  const code = await main(['lab', 'exec', 'mars', '--', 'curl', '--help'], io);
  assert.equal(code, EXIT.usage);
  assert.match(io.err.join(''), /unknown lab node 'mars'/);
  assert.equal(io.out.join(''), '');
});

test("an unknown option of a lab subcommand is one short sentence, without node's advice about '--'", async () => {
  for (const args of [['fault', '--bogus'], ['heal', '-z'], ['status', '--bogus']]) {
    const io = memoryIO();
    assert.equal(await main(['lab', ...args], io), EXIT.usage);
    assert.match(io.err.join(''), /^error\[USAGE\]: lab: Unknown option '[^']+'\nhint: run `flowtrace lab --help`\n$/, args.join(' '));
  }
});
