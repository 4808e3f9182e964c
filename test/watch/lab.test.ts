/**
 * `flowtrace watch` in the lab, end to end, as a user runs it: the CLI in the client's
 * namespace every second with the agent on ft-ec2, an OTLP/HTTP endpoint and the /metrics
 * scrape (curl) in the same namespace. alb-node-down is turned on with `flowtrace lab fault`
 * after two runs, healed after some failing runs; then Ctrl-C. Checked: the lines, the
 * summary naming alb-b (zone b) and what its requests got, the failing runs' reports, the
 * metrics, one trace per run with the failing layer's span in error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { IExportTraceServiceRequest, ISpan } from '@opentelemetry/otlp-transformer/build/src/trace/internal-types.js';
import { LAB, labExec, nsName, spawnInLab } from '../../src/lab/index.js';
import { selfCliArgv } from '../../src/self.js';
import { isRoot, useLab } from '../helpers/lab.js';

useLab();

/** An OTLP/HTTP endpoint in the client's namespace: prints its port, then each request's body as one JSON line. */
const SINK = `
  import http from 'node:http';
  const s = http.createServer((req, res) => {
    const b = [];
    req.on('data', (c) => b.push(c));
    req.on('end', () => { process.stdout.write(JSON.stringify({ path: req.url, body: Buffer.concat(b).toString('utf8') }) + '\\n'); res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}'); });
  });
  s.listen(0, '127.0.0.1', () => process.stdout.write(JSON.stringify({ port: s.address().port }) + '\\n'));
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
`;

function lines(child: ChildProcess, stream: 'stdout' | 'stderr', onLine: (line: string) => void): void {
  let pending = '';
  child[stream]!.on('data', (b: Buffer) => {
    pending += b.toString();
    for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) { onLine(pending.slice(0, i)); pending = pending.slice(i + 1); }
  });
}

function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const tick = setInterval(() => {
      if (check()) { clearInterval(tick); resolve(); } else if (performance.now() - t0 > timeoutMs) { clearInterval(tick); reject(new Error(`timed out waiting for ${what}`)); }
    }, 50);
  });
}

function labCli(args: string[]): void {
  const argv = selfCliArgv();
  const r = spawnSync(argv[0]!, [...argv.slice(1), 'lab', ...args], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `flowtrace lab ${args.join(' ')}: ${r.stderr}`);
}

test('watch in the lab with alb-node-down toggled: the intermittent failures through alb-b (zone b), reports, metrics, traces', { skip: !isRoot && 'needs root (the lab)', timeout: 300_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-watch-lab-'));
  const sink = spawnInLab('client', [process.execPath, '--input-type=module', '-e', SINK], { stdio: ['pipe', 'pipe', 'pipe'] });
  const exports: IExportTraceServiceRequest[] = [];
  let sinkPort = 0;
  lines(sink, 'stdout', (l) => {
    const o = JSON.parse(l) as { port?: number; path?: string; body?: string };
    if (o.port) sinkPort = o.port; else exports.push(JSON.parse(o.body!) as IExportTraceServiceRequest);
  });
  let watchChild: ChildProcess | null = null;
  let faultOn = false;
  try {
    await until('the OTLP endpoint', () => sinkPort > 0, 20_000);
    const argv = ['ip', 'netns', 'exec', nsName('client'), ...selfCliArgv(), 'watch', `http://${LAB.domain}/`, '--every', '1s', '--server', 'netns:ec2', '--timeout', '5',
      '--lb-name', `${LAB.albA.public}=alb-a@${LAB.albA.zone}`, '--lb-name', `${LAB.albB.public}=alb-b@${LAB.albB.zone}`,
      '--report-dir', dir, '--otlp', `http://127.0.0.1:${sinkPort}`, '--metrics', '127.0.0.1:0'];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    watchChild = child;
    const out: string[] = [];
    let err = '';
    let metricsUrl = '';
    lines(child, 'stdout', (l) => out.push(l));
    lines(child, 'stderr', (l) => { err += `${l}\n`; const m = /^metrics: (\S+)$/.exec(l); if (m) metricsUrl = m[1]!; });
    const closed = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const runLines = (): string[] => out.filter((l) => /^\S+Z  #\d+  /.test(l));
    const failed = (): number => runLines().filter((l) => / {2}FAILED {2}/.test(l)).length;

    await until('two runs', () => runLines().length >= 2, 90_000);
    labCli(['fault', 'alb-node-down']);
    faultOn = true;
    await until('three failing runs', () => failed() >= 3, 120_000);
    labCli(['heal', 'alb-node-down']);
    faultOn = false;
    const afterHeal = runLines().length;
    await until('two runs after the heal', () => runLines().slice(afterHeal).filter((l) => / {2}ok {4}/.test(l)).length >= 2, 120_000);

    // The metrics, scraped in the client's namespace with curl.
    assert.ok(metricsUrl, err);
    const scrape = await labExec('client', ['curl', '-sS', '-D', '-', metricsUrl], { timeoutMs: 15_000 });
    assert.equal(scrape.code, 0, scrape.stderr);
    assert.match(scrape.stdout, /^content-type: text\/plain; version=0\.0\.4; charset=utf-8\r$/mi);

    const t0 = performance.now();
    child.kill('SIGINT');
    const code = await closed;
    const exitMs = performance.now() - t0;
    watchChild = null;
    process.stdout.write(`# watch exited ${exitMs.toFixed(0)} ms after SIGINT (${runLines().length} runs)\n`);

    const runs = runLines();
    const failing = runs.filter((l) => / {2}FAILED {2}/.test(l));
    const context = `${out.join('\n')}\n${err}`;
    assert.equal(code, 1, context);
    assert.ok(exitMs < 5000, `exited ${exitMs.toFixed(0)} ms after SIGINT`);
    assert.ok(failing.length >= 3, context);
    // Every failing run failed through alb-b only; the runs the fault did not touch went through both.
    for (const l of failing) assert.match(l, /alb-a 200, alb-b |alb-b [^,]+, alb-a 200/, l);
    assert.ok(failing.some((l) => /load balancer \(lb-refused\).*alb-b connection refused/.test(l)), context);
    assert.ok(runs.slice(0, 2).every((l) => / {2}ok {4}/.test(l)), context);
    // The summary: the count, the node and its zone, what its requests got.
    const summary = out.slice(out.findIndex((l) => l.startsWith('watch http://'))).join('\n');
    const counted = new RegExp(`${failing.length} of ${runs.length} runs failed \\([\\d.]+ %\\)`);
    assert.match(summary, counted, context);
    const single = /, all through alb-b \(10\.77\.2\.10, zone b\): connection refused — first failing: load balancer \(lb-refused\)/;
    const grouped = /\n {4}\d+ through alb-b \(10\.77\.2\.10, zone b\): connection refused — first failing: load balancer \(lb-refused\)/;
    assert.ok(single.test(summary) || grouped.test(summary), summary);
    assert.doesNotMatch(summary, /through alb-a/, 'alb-a never failed');
    assert.match(summary, new RegExp(`alb-a \\(10\\.77\\.1\\.10, zone a\\) +0 of ${runs.length} failed`));
    // A report per failing run, and the kept results.
    const files = readdirSync(dir);
    assert.equal(files.filter((f) => f.endsWith('.html')).length, failing.length);
    assert.equal(files.filter((f) => /^watch-.*\.json$/.test(f)).length, 1);

    // The metrics agree with the lines.
    const refused = [...scrape.stdout.matchAll(/^flowtrace_runs_total\{result="failed",layer="loadBalancer",cause="lb-refused"\} (\d+)$/gm)];
    assert.equal(refused.length, 1, scrape.stdout.slice(0, 2000));
    const scrapedFailing = [...scrape.stdout.matchAll(/^flowtrace_runs_total\{result="failed",[^}]*\} (\d+)$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    const scrapedRuns = scrapedFailing + Number(/^flowtrace_runs_total\{result="ok",layer="none",cause="none"\} (\d+)$/m.exec(scrape.stdout)![1]);
    assert.ok(scrapedFailing >= 3 && scrapedFailing <= failing.length);
    assert.match(scrape.stdout, /^flowtrace_requests_total\{address="10\.77\.2\.10",node="alb-b",zone="b",family="ipv4",target="none",target_name="none",target_zone="none",target_health="none",result="failed",status="HTTP_CONNECT_REFUSED",answered_by="none"\} \d+$/m);
    assert.match(scrape.stdout, /^flowtrace_layer_duration_seconds_count\{layer="dns"\} \d+$/m);

    // One trace per run (at least those up to the scrape), the failing ones with the load balancer's span in error.
    await until('the last trace', () => exports.length >= runs.length, 10_000);
    assert.equal(exports.length, runs.length);
    assert.ok(scrapedRuns <= exports.length);
    const traces = exports.map((e) => (e.resourceSpans ?? []).flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans ?? [])));
    const failedTraces = traces.filter((spans) => spans.find((s: ISpan) => !s.parentSpanId)!.status.code === 2);
    assert.equal(failedTraces.length, failing.length);
    for (const spans of failedTraces) {
      const root = spans.find((s) => !s.parentSpanId)!;
      assert.ok(spans.every((s) => s.traceId === root.traceId));
      const lb = spans.find((s) => s.name === 'load balancer')!;
      if (lb.status.code === 2) {
        assert.equal(lb.status.message, root.status.message, 'the verdict\'s cause on the failing layer');
        const refusedGet = spans.find((s) => s.name === 'GET' && s.status.code === 2)!;
        assert.equal(refusedGet.attributes.find((a) => a.key === 'network.peer.address')?.value.stringValue, '10.77.2.10');
      }
    }
  } finally {
    if (watchChild?.pid) watchChild.kill('SIGINT');
    if (faultOn) labCli(['heal', 'alb-node-down']);
    sink.stdin?.end();
    if (sink.pid) sink.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
