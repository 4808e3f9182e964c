import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandArgs } from '../../src/cli/args.js';
import { EXIT, UsageError } from '../../src/errors.js';

const options = { count: { type: 'string', short: 'c' }, verbose: { type: 'boolean', short: 'v' } } as const;

test('parseCommandArgs returns what parseArgs returns', () => {
  const r = parseCommandArgs('x', { args: ['-c', '3', 'file', '-v'], allowPositionals: true, options });
  assert.equal(r.values.count, '3');
  assert.equal(r.values.verbose, true);
  assert.deepEqual(r.positionals, ['file']);
});

test("node:util's multi-line message becomes one line, its dash advice the hint", () => {
  assert.throws(() => parseCommandArgs('x', { args: ['-c', '-v'], allowPositionals: true, options }), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.equal(e.exitCode, EXIT.usage);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, /ambiguous/);
    assert.match(e.hint, /^To specify an option argument starting with a dash/);
    return true;
  });
});

test('other errors point at the command help, or at the given hint', () => {
  assert.throws(() => parseCommandArgs('dns', { args: ['--bogus'], options }), (e: unknown) => e instanceof UsageError && e.hint === 'run `flowtrace dns --help` for the options');
  assert.throws(() => parseCommandArgs('agent', { args: ['x'], options: {} }, 'takes no arguments'), (e: unknown) => e instanceof UsageError && e.hint === 'takes no arguments');
});

test("an unknown option is one short sentence, without node's advice about positionals after '--'", () => {
  for (const args of [['-L'], ['-vL'], ['--bogus'], ['--bogus=3']]) {
    assert.throws(() => parseCommandArgs('http', { args, allowPositionals: true, options }), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /^unknown option '(-L|--bogus)'$/);
      assert.equal(e.hint, 'run `flowtrace http --help` for the options');
      return true;
    });
  }
});

test('a flag of another tool gets the hint the command gives for it', () => {
  const unsupported = { '-L': 'flowtrace does not follow redirects' };
  assert.throws(() => parseCommandArgs('http', { args: ['-vL'], allowPositionals: true, options }, undefined, unsupported),
    (e: unknown) => e instanceof UsageError && e.message === "unknown option '-L'" && e.hint === 'flowtrace does not follow redirects');
  assert.throws(() => parseCommandArgs('http', { args: ['--toString'], allowPositionals: true, options }, undefined, unsupported),
    (e: unknown) => e instanceof UsageError && e.hint === 'run `flowtrace http --help` for the options', 'only own keys of the map');
});

test("a one-letter long option (--c, --r: tcpdump's -c typed with two dashes) is refused with the one-dash spelling as hint", () => {
  // read names its options after the letter (c, r: node accepts --c as c); trace has count, short c.
  const named = { c: { type: 'string', short: 'c' }, r: { type: 'string', short: 'r' }, v: { type: 'boolean', short: 'v' } } as const;
  const cases = [[['--c', '3'], 'c'], [['--c=3'], 'c'], [['file', '--v'], 'v'], [['--r', 'x.pcap'], 'r']] as const;
  for (const [args, letter] of cases) for (const opts of [named, options]) {
    if (!Object.values(opts).some((o) => o.short === letter)) continue;
    assert.throws(() => parseCommandArgs('read', { args: [...args], allowPositionals: true, options: opts }), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.equal(e.exitCode, EXIT.usage);
      assert.equal(e.message, `unknown option '--${letter}'`);
      assert.match(e.hint, new RegExp(`^did you mean -${letter}\\?`));
      return true;
    });
  }
  // After '--' it is a word like any other (a FILTER, a command's own argument).
  assert.deepEqual(parseCommandArgs('read', { args: ['--', '--c'], allowPositionals: true, options: named }).positionals, ['--c']);
  // A letter that is no option at all: the usual help hint, not a wrong guess.
  assert.throws(() => parseCommandArgs('read', { args: ['--z'], options: named }), (e: unknown) => e instanceof UsageError && e.hint === 'run `flowtrace read --help` for the options');
});
