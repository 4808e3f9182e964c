/**
 * `flowtrace report` on saved results that are JSON and pass the top-level check but cannot be
 * drawn (edited by hand, a field cut out): one INPUT error naming the file, exit 3 — not
 * "cannot write the report" with a hint about the output path.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../src/cli/main.js';
import { memoryIO } from '../../src/cli/io.js';
import { EXIT } from '../../src/errors.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'ftt-report-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const healthy = JSON.parse(readFileSync(new URL('../data/follow/healthy.json', import.meta.url), 'utf8')) as Record<string, unknown>;

async function report(name: string, result: unknown): Promise<{ code: number; err: string; out: string }> {
  writeFileSync(path.join(dir, `${name}.json`), JSON.stringify(result));
  const io = memoryIO();
  io.cwd = dir;
  const code = await main(['report', `${name}.json`], io);
  return { code, err: io.err.join(''), out: io.out.join('') };
}

test('the untouched saved result is drawn', async () => {
  const r = await report('whole', healthy);
  assert.equal(r.code, EXIT.ok, r.err);
  assert.ok(existsSync(path.join(dir, 'whole.html')));
});

for (const [name, edit] of [
  ['empty-request', (v: Record<string, unknown>) => ({ ...v, requests: [{}] })],
  ['dns-cut', (v: Record<string, unknown>) => ({ ...v, dns: { status: 'ok' } })],
  ['empty-row', (v: Record<string, unknown>) => ({ ...v, verdict: { rows: [{}] } })],
] as const) {
  test(`a result that cannot be drawn (${name}) is an input error about the file, not the output path`, async () => {
    const r = await report(name, edit(healthy));
    assert.equal(r.code, EXIT.input);
    assert.match(r.err, new RegExp(`^error\\[INPUT\\]: ${name}\\.json is not a complete follow result \\(drawing it failed: .+\\)\\nhint: was it edited or cut short\\?`));
    assert.doesNotMatch(r.err, /cannot write/);
    assert.equal(r.err.split('\n').length, 3, 'one error line, one hint line');
    assert.ok(!existsSync(path.join(dir, `${name}.html`)), 'nothing written');
  });
}

test('an unwritable output path is still the path\'s error', async () => {
  writeFileSync(path.join(dir, 'ok.json'), JSON.stringify(healthy));
  const io = memoryIO();
  io.cwd = dir;
  const code = await main(['report', 'ok.json', '-o', path.join(dir, 'no-such-dir', 'x.html')], io);
  assert.equal(code, EXIT.input);
  assert.match(io.err.join(''), /cannot write the report to .*no-such-dir/);
});

test('follow --report to a path that cannot be written fails before the walk: no request is sent', async () => {
  const { createServer } = await import('node:http');
  let requests = 0;
  const server = createServer((_req, res) => { requests++; res.end('ok'); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  try {
    for (const [target, problem] of [[path.join(dir, 'no-such-dir', 'r.html'), 'ENOENT'], [dir, 'EISDIR']] as const) {
      for (const json of [[], ['--json']]) {
        const io = memoryIO();
        io.cwd = dir;
        const code = await main(['follow', `http://127.0.0.1:${port}/`, '--once', '--timeout', '3', '--report', target, ...json], io);
        assert.equal(code, EXIT.input, io.err.join(''));
        assert.equal(io.err.join(''), `error[INPUT]: cannot write the report to ${target}: ${problem}\nhint: give a writable path, e.g. --report /tmp/flowtrace-report.html\n`);
        assert.equal(io.out.join(''), '');
      }
    }
    assert.equal(requests, 0, 'the walk never started');
  } finally {
    server.close();
  }
});

test('report -o naming the input itself is refused: the saved result is not overwritten', async () => {
  const text = JSON.stringify(healthy);
  for (const [input, output] of [['same.json', 'same.json'], ['same.json', './same.json'], ['same', 'same']]) {
    writeFileSync(path.join(dir, input), text);
    const io = memoryIO();
    io.cwd = dir;
    const code = await main(['report', input, '-o', output], io);
    assert.equal(code, EXIT.usage, `${input} -o ${output}`);
    assert.match(io.err.join(''), /^error\[USAGE\]: -o .* is the input itself: the result would be overwritten by its report\nhint: give another file: /);
    assert.equal(readFileSync(path.join(dir, input), 'utf8'), text, 'the result is untouched');
  }
});

test('follow --help and demo --help name exit 3 for an output they cannot write', async () => {
  for (const [cmd, text] of [['follow', /3 --report FILE not writable/], ['demo', /3 --out DIR cannot be created/]] as const) {
    const io = memoryIO();
    assert.equal(await main([cmd, '--help'], io), EXIT.ok);
    assert.match(io.out.join(''), text);
  }
});

test('Ctrl-C during follow: error[INTERRUPTED] with a hint (one line each), exit 130, nothing on stdout', async () => {
  const { createServer } = await import('node:http');
  let press: (() => void) | null = null;
  // The request reaching the server is the moment the user presses Ctrl-C.
  const server = createServer((_req, res) => { press?.(); setImmediate(() => res.end('ok')); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  try {
    const io = memoryIO();
    io.onInterrupt = (h) => { press = h; return () => { press = null; }; };
    const code = await main(['follow', `http://127.0.0.1:${port}/`, '--once', '--timeout', '3'], io);
    assert.equal(code, EXIT.interrupted);
    assert.equal(io.err.join(''), 'error[INTERRUPTED]: follow was interrupted before its verdict\nhint: nothing was printed or written; the capture on the server, if any, was stopped\n');
    assert.equal(io.out.join(''), '');
  } finally {
    server.close();
  }
});

test("curl's request flags given to follow: one line, pointing at flowtrace http", async () => {
  for (const flags of [['-H', 'X-A: 1'], ['-X', 'POST'], ['--data', 'a=1']]) {
    const io = memoryIO();
    const code = await main(['follow', 'http://127.0.0.1:1/', ...flags], io);
    assert.equal(code, EXIT.usage, flags.join(' '));
    assert.match(io.err.join(''), /^error\[USAGE\]: unknown option '[^']+'\nhint: follow sends its own GET .* is `flowtrace http URL -H … -X … -d …`\n$/);
  }
});
