/**
 * The HTML report in real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core; no browser download): the verdict rows, the hops, the ladder's messages,
 * the failing hop marked, no console errors, no network requests, usable at 1280 px and at
 * 390 px, dark mode, printable to PDF. Screenshots go to artifacts/ (gitignored).
 *
 * Draws the hand-built scenarios (test/follow/scenarios.ts) and, when the fault matrix ran in
 * the lab before, the real results it saved (artifacts/follow-live-*.json).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { renderHtmlReport } from '../../src/report/index.js';
import { COMPACT_WIDTH, pathNodes } from '../../src/report/svg.js';
import type { FollowResult } from '../../src/follow/index.js';
import { LAB } from '../../src/lab/index.js';
import { recordedResult } from '../follow/recorded.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = path.join(root, 'artifacts');
const haveChromium = existsSync(CHROMIUM);

let browser: Browser | null = null;
before(async () => {
  if (!haveChromium) return;
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
});
after(async () => { await browser?.close(); });

/** The load-balancer node marked as the carrier, and how (★ by trace id, ☆ by timing). */
interface Carrier { node: string; by: 'trace-id' | 'timing' }
interface Case { name: string; result: FollowResult; failingLabel: string | null; messages: string[]; carrier: Carrier | null }

/**
 * The node a real run's ladder came through, from the lab's topology: the connection on ens5
 * comes from the ALB node's VPC address (ground truth for the report's inference by timing).
 */
function carrierOfLiveRun(r: FollowResult): Carrier | null {
  const src = r.server?.packets.find((p) => p.iface === 'ens5' && p.way === 'request')?.src.replace(/:\d+$/, '');
  const node = src === LAB.albA.vpc ? 'alb-a' : src === LAB.albB.vpc ? 'alb-b' : null;
  return node ? { node, by: r.server!.matchedBy === 'trace-id' ? 'trace-id' : 'timing' } : null;
}

function cases(): Case[] {
  const out: Case[] = [
    { name: 'recorded-healthy', result: recordedResult('healthy'), failingLabel: null, messages: ['SYN', 'SYN-ACK', 'ACK', 'GET /', 'HTTP 200', 'FIN'], carrier: null },
    { name: 'recorded-dnat-missing', result: recordedResult('dnat-missing'), failingLabel: 'docker0', messages: ['SYN', 'RST'], carrier: null },
    { name: 'recorded-route-blackhole', result: recordedResult('route-blackhole'), failingLabel: 'hop 3 *', messages: [], carrier: null },
    { name: 'recorded-app-down', result: recordedResult('app-down'), failingLabel: 'application', messages: ['SYN', 'RST'], carrier: null },
    { name: 'recorded-reply-drop', result: recordedResult('raw-docker-user-reply-drop'), failingLabel: 'ens5', messages: ['SYN', 'SYN-ACK'], carrier: null },
  ];
  // The carrier is ground truth from the lab's topology (which ALB node's VPC address the connection came from).
  for (const c of out) c.carrier = carrierOfLiveRun(c.result);
  for (const [file, failing, messages] of [['follow-live-healthy.json', null, ['SYN', 'SYN-ACK', 'GET /', 'HTTP 200', 'FIN']], ['follow-live-dnat-missing.json', 'docker0', ['SYN', 'RST']]] as const) {
    const p = path.join(artifacts, file);
    if (!existsSync(p)) continue;
    const result = JSON.parse(readFileSync(p, 'utf8')) as FollowResult;
    out.push({ name: `live-${file.replace(/^follow-live-|\.json$/g, '')}`, result, failingLabel: failing, messages: [...messages], carrier: carrierOfLiveRun(result) });
  }
  return out;
}

for (const c of cases()) {
  test(`report in Chromium: ${c.name}`, { skip: haveChromium ? false : `needs ${CHROMIUM} (apt-get install chromium)` }, async () => {
    const file = path.join(artifacts, `report-${c.name}.html`);
    writeFileSync(file, renderHtmlReport(c.result));
    const url = pathToFileURL(file).href;
    const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
    await page.goto(url);

    // The verdict table: six rows, the failing one open and marked.
    const rows = await page.$$eval('#verdict details', (ds) => ds.map((d) => ({ layer: d.getAttribute('data-layer'), status: d.getAttribute('data-status'), open: (d as unknown as { open: boolean }).open, text: d.textContent ?? '' })));
    assert.deepEqual(rows.map((r) => r.layer), ['dns', 'route', 'loadBalancer', 'instance', 'container', 'application']);
    assert.deepEqual(rows.map((r) => r.status), c.result.verdict.rows.map((r) => r.status));
    for (const [i, r] of rows.entries()) assert.ok(r.text.includes(c.result.verdict.rows[i]!.title), `row ${r.layer} shows its title`);
    const failingRow = rows.find((r) => r.status === 'fail');
    if (failingRow) assert.equal(failingRow.open, true, 'the failing row is open');
    // A row expands to its evidence on click.
    const firstPass = await page.$('#verdict details[data-status="pass"] summary');
    if (firstPass) {
      await firstPass.click();
      assert.equal(await page.$eval('#verdict details[data-status="pass"]', (d) => (d as unknown as { open: boolean }).open), true);
      assert.ok(await page.isVisible('#verdict details[data-status="pass"] .evidence'));
    }

    // The path map: the failing hop marked (and only that one), visible at this width.
    const failing = await page.$$eval('svg.pathmap-horizontal [data-failing="true"] .node-label', (ts) => ts.map((t) => t.textContent ?? ''));
    if (c.failingLabel) assert.deepEqual(failing, [`✗ ${c.failingLabel}`]);
    else assert.deepEqual(failing, []);
    assert.ok(await page.isVisible('svg.pathmap-horizontal'));
    assert.equal(await page.isVisible('svg.pathmap-vertical'), false);
    // The map fits the 1280 px layout: nothing scrolls or is cut off (docker0 once was).
    const mapFit = await page.$eval('#pathmap', (f) => {
      const box = f.getBoundingClientRect();
      const out = [...f.querySelectorAll('svg.pathmap-horizontal g.node rect')].filter((r) => { const b = r.getBoundingClientRect(); return b.left < box.left || b.right > box.right; }).length;
      return { overflow: f.scrollWidth - f.clientWidth, out };
    });
    assert.deepEqual(mapFit, { overflow: 0, out: 0 }, 'the path map fits at 1280 px');
    // Every load-balancer node tried is on the map; the one the capture followed carries ★.
    const lbs = await page.$$eval('svg.pathmap-horizontal g[data-kind="lb"]', (gs) => gs.map((g) => ({
      role: g.getAttribute('data-role'), matched: g.getAttribute('data-matched'), label: g.querySelector('.node-label')?.textContent ?? '',
      how: g.querySelector('.node-matched')?.textContent ?? null, title: g.querySelector('title')?.textContent ?? '',
      dash: g.ownerDocument.defaultView!.getComputedStyle(g.querySelector('rect')!).strokeDasharray,
    })));
    assert.equal(lbs.length, Math.max(1, c.result.requests.length), 'one box per load-balancer address tried');
    for (const q of c.result.requests) if (q.node) assert.ok(lbs.some((l) => l.label.includes(`ALB ${q.node}`)), `ALB ${q.node} on the map`);
    // The carrier: ★ and "by trace id" (solid outline) when its trace id was in the capture;
    // ☆ and "by timing" (dotted outline) when the connection was found only by timing.
    const carried = lbs.filter((l) => l.role === 'carried');
    if (c.carrier && c.result.requests.length > 1) {
      const timing = c.carrier.by === 'timing';
      assert.deepEqual(carried.map((l) => [l.label, l.matched, l.how]), [[`ALB ${c.carrier.node} ${timing ? '☆' : '★'}`, c.carrier.by, timing ? 'by timing' : 'by trace id']]);
      assert.match(carried[0]!.title, timing ? /matched by timing: no trace id reached the instance/ : /matched by trace id/);
      if (timing) assert.notEqual(carried[0]!.dash, 'none', 'the timing carrier has a dotted outline');
      else assert.equal(carried[0]!.dash, 'none', 'the trace-id carrier has a solid outline');
      assert.equal(lbs.filter((l) => l.role === 'other').length, c.result.requests.length - 1);
      assert.match(await page.textContent('#pathmap + .caption') ?? '', timing ? /☆ ALB \S+ carried the connection seen on the instance, matched by timing/ : /★ ALB \S+ carried the request followed on the instance, matched by trace id/);
    } else {
      assert.deepEqual(carried, [], 'no carrier marked');
    }

    // The hops: every traced hop in the route table, routers by address.
    const hopCells = await page.$$eval('table.hops tbody tr td:nth-child(2)', (tds) => tds.map((t) => t.textContent ?? ''));
    const wantHops = c.result.routes.reduce((n, r) => n + r.hops.length, 0);
    assert.equal(hopCells.length, wantHops);
    for (const r of c.result.routes) for (const h of r.hops) for (const x of h.responders) assert.ok(hopCells.some((t) => t.includes(x.address)), `hop ${x.address}`);

    // The ladder's messages, and the NAT rewrite when there is one.
    const labels = await page.$$eval('svg.ladder g.msg', (gs) => gs.map((g) => g.getAttribute('data-label') ?? ''));
    for (const m of c.messages) assert.ok(labels.includes(m), `ladder has ${m} (has ${labels.join(', ')})`);
    if (c.result.server?.nat.length && c.result.server.packets.length) assert.match(await page.textContent('svg.ladder .nat') ?? '', /DNAT .*→/);
    // …and written on the packet: its address on ens5 and, rewritten, on docker0.
    const nat = c.result.server?.nat[0];
    if (nat && c.result.server!.packets.some((p) => p.iface === 'docker0')) {
      const addrs = await page.$$eval('svg.ladder text.nat-addr', (ts) => ts.map((t) => t.textContent ?? ''));
      assert.ok(addrs.includes(`dst ${nat.from}`) && addrs.includes(`dst ${nat.to}`), `the request's rewrite on the ladder (has ${addrs.join(', ')})`);
      assert.equal(await page.$$eval('svg.ladder rect.nat-band', (rs) => rs.length), 1, 'the DNAT band between ens5 and docker0');
    }

    // At 1280 px the wide ladder and waterfall; the compact ones are for phones.
    if (await page.$('#ladder')) assert.deepEqual([await page.isVisible('svg.ladder'), await page.isVisible('svg.ladder-compact')], [true, false]);
    if (await page.$('#waterfall')) assert.deepEqual([await page.isVisible('svg.waterfall'), await page.isVisible('svg.waterfall-compact')], [true, false]);

    await page.screenshot({ path: path.join(artifacts, `report-${c.name}-1280.png`), fullPage: true });

    // Phone width: the vertical path map, no page-wide horizontal scroll (figures scroll inside).
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await page.isVisible('svg.pathmap-vertical'));
    assert.equal(await page.isVisible('svg.pathmap-horizontal'), false);
    const overflow = await page.evaluate<number>('document.documentElement.scrollWidth - window.innerWidth');
    assert.ok(overflow <= 1, `page scrolls sideways by ${overflow}px at 390 px`);
    assert.equal(await page.$eval('#pathmap', (f) => f.scrollWidth - f.clientWidth), 0, 'the vertical path map fits at 390 px');
    // The ladder and the waterfall fit too (compact versions): their frames do not scroll, no
    // text sticks out of the drawing, the ladder's lane names do not overlap, and the drawing
    // is not shrunk below its design width (its text keeps its size).
    for (const [frame, compact] of [['#ladder', 'ladder-compact'], ['#waterfall', 'waterfall-compact']] as const) {
      const drawn = frame === '#ladder' ? (c.result.server?.packets.length ?? 0) > 0 : c.result.requests.length > 0;
      assert.equal(await page.$(frame) !== null, drawn, `${frame} drawn when there is something to draw`);
      if (!drawn) continue;
      const fit = await page.$eval(frame, (f) => {
        const shown = [...f.querySelectorAll('svg')].filter((s) => s.getBoundingClientRect().width > 0);
        const svg = shown[0]!.getBoundingClientRect();
        const out = [...shown[0]!.querySelectorAll('text')].filter((t) => { const b = t.getBoundingClientRect(); return b.width > 0 && (b.left < svg.left - 0.5 || b.right > svg.right + 0.5 || b.top < svg.top - 0.5 || b.bottom > svg.bottom + 0.5); }).map((t) => t.textContent);
        const lanes = [...shown[0]!.querySelectorAll('.lane-label')].map((t) => t.getBoundingClientRect());
        const overlapping = lanes.flatMap((a, i) => lanes.slice(i + 1).filter((b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom).map(() => i));
        return { scrollWidth: f.scrollWidth, clientWidth: f.clientWidth, shown: shown.map((s) => s.getAttribute('class')), widthPx: svg.width, out, overlapping };
      });
      assert.deepEqual(fit.shown, [compact], `${frame}: the compact drawing at 390 px`);
      assert.ok(fit.scrollWidth <= fit.clientWidth, `${frame} scrolls sideways at 390 px (${fit.scrollWidth} > ${fit.clientWidth})`);
      assert.deepEqual(fit.out, [], `${frame}: text outside the drawing`);
      assert.deepEqual(fit.overlapping, [], `${frame}: lane names overlap`);
      assert.ok(fit.widthPx >= COMPACT_WIDTH, `${frame} drawn at ${fit.widthPx} px, under its design width ${COMPACT_WIDTH}`);
      await (await page.$(frame))!.screenshot({ path: path.join(artifacts, `report-${c.name}-390-${frame.slice(1)}.png`) });
    }
    await page.screenshot({ path: path.join(artifacts, `report-${c.name}-390.png`), fullPage: true });

    // Dark mode follows the system setting.
    await page.emulateMedia({ colorScheme: 'dark' });
    const bg = await page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
    const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
    assert.ok(r! + g! + b! < 150, `dark background, got ${bg}`);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: path.join(artifacts, `report-${c.name}-1280-dark.png`) });

    // Printed to PDF: every row opens (beforeprint) and a PDF comes out.
    await page.emulateMedia({ colorScheme: 'light' });
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    assert.equal(pdf.subarray(0, 4).toString(), '%PDF');
    assert.equal(await page.$$eval('#verdict details', (ds) => ds.every((d) => (d as unknown as { open: boolean }).open)), true, 'printing opens every row');
    writeFileSync(path.join(artifacts, `report-${c.name}.pdf`), pdf);

    assert.deepEqual(problems, [], 'no console errors');
    assert.deepEqual(requests, [], 'no network requests');
    await context.close();
  });
}

test('the report is one self-contained file: no external URL, the result embedded', () => {
  const html = renderHtmlReport(recordedResult('dnat-missing'));
  assert.doesNotMatch(html, /\b(src|href)=["']?(https?:)?\/\//i);
  assert.doesNotMatch(html, /@import|url\((?!#)/i, "only in-document url(#id) references");
  const m = /<script type="application\/json" id="flowtrace-result">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m);
  assert.equal(JSON.parse(m[1]!).verdict.causeId, 'not-listening');
});

test('hostile text in the evidence is escaped', () => {
  const r = recordedResult('app-500');
  r.requests[0]!.bodyPreview = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';
  r.verdict.rows[5]!.evidence.push('<b>bold</b> & "quoted"');
  const html = renderHtmlReport(r);
  assert.doesNotMatch(html, /<script>alert/);
  assert.doesNotMatch(html, /<img src=x/);
  assert.match(html, /&lt;b&gt;bold&lt;\/b&gt; &amp; &quot;quoted&quot;/);
});

test('path map nodes: every load-balancer node tried; the carrier by trace id, or by timing; only the nodes that failed are marked', () => {
  const lbs = (r: FollowResult): string[] => pathNodes(r).filter((n) => n.kind === 'lb').map((n) => `${n.label}${n.failing ? ' ✗' : ''}${n.role ? ` (${n.role}${n.matchedBy ? ` by ${n.matchedBy}` : ''})` : ''}`);
  const nodes = (r: FollowResult): [string, string] => [r.requests[0]!.node!, r.requests[1]!.node!];
  const healthy = recordedResult('healthy');
  const [h1, h2] = nodes(healthy);
  assert.deepEqual(lbs(healthy), [`ALB ${h1} ★ (carried by trace-id)`, `ALB ${h2} (other)`]);
  const dereg = recordedResult('target-deregistered');
  assert.deepEqual(lbs(dereg).map((l) => l.replace(/ \(.*\)$/, '')), [`ALB ${nodes(dereg)[0]} ✗`, `ALB ${nodes(dereg)[1]} ✗`]);
  // No trace id got through (ALB 502/504): the connection found by timing is the first request's.
  const dnat = recordedResult('dnat-missing');
  assert.deepEqual(lbs(dnat), [`ALB ${nodes(dnat)[0]} ☆ (carried by timing)`, `ALB ${nodes(dnat)[1]} (other)`]);
  // Only one node fails (a blackhole route back to it): only that one is marked.
  const partial = recordedResult('raw-host-blackhole-one-node');
  const marked = lbs(partial).filter((l) => l.includes('✗'));
  assert.equal(marked.length, 1, lbs(partial).join(', '));
  assert.match(marked[0]!, /alb-b/);
  // A single address (--once): one node, no star.
  const once = recordedResult('healthy');
  once.requests = once.requests.slice(0, 1);
  assert.deepEqual(lbs(once), [`ALB ${h1}`]);
});

test('the report shows each request\'s journey and the host facts behind the cause', () => {
  const html = renderHtmlReport(recordedResult('raw-docker-user-reply-drop'));
  const journeys = /<pre class="evidence" id="journeys"[^>]*>([\s\S]*?)<\/pre>/.exec(html);
  assert.ok(journeys, 'a journeys block');
  assert.match(journeys[1]!, /SYN-ACK\s+← veth\w+ in → docker0 in\s+✗ ens5 out/);
  assert.match(journeys[1]!, /stopped: the SYN was delivered; its answer \(SYN-ACK/);
  const facts = /<pre class="evidence" id="host-facts"[^>]*>([\s\S]*?)<\/pre>/.exec(html);
  assert.ok(facts, 'a host facts block');
  assert.match(facts[1]!, /DROP rule `-A DOCKER-USER -i docker0 -o ens5 .*-j DROP` \(filter table\) on the host counted \d+ packet/);
});
