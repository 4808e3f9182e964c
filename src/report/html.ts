/**
 * `renderHtmlReport(result)`: ONE self-contained HTML file of a followed request — inline CSS,
 * a few lines of inline JS, hand-drawn SVG; nothing is fetched (no CDN, no fonts, no images),
 * so it opens offline and prints to PDF. Light and dark (prefers-color-scheme), 1280 px and
 * phone width (the path map switches to a vertical layout, the ladder and the waterfall to
 * compact ones that fit the width).
 */
import type { FollowResult, RowStatus } from '../follow/index.js';
import { breakText, factText, fmtMs } from '../follow/index.js';
import { journeyHead, journeySteps } from './journeys.js';
import { CARRIER_STAR, esc, ladderCompactSvg, ladderSvg, pathMapSvg, pathNodes, waterfallCompactSvg, waterfallSvg } from './svg.js';

/** Status badges drawn with CSS (emoji fonts are often missing in headless/print setups). */
const ICON: Record<RowStatus, string> = { pass: '✓', fail: '✗', warn: '!', 'not-checked': '–' };
const badge = (s: RowStatus): string => `<span class="badge badge-${s}" aria-hidden="true">${ICON[s]}</span>`;
const WORD: Record<RowStatus, string> = { pass: 'ok', fail: 'failed', warn: 'warning', 'not-checked': 'not checked' };

const CSS = `
:root{color-scheme:light dark;--bg:#fbfbfd;--fg:#1d1f24;--muted:#5d6470;--card:#fff;--line:#d9dde3;--pass:#1a7f37;--fail:#cf222e;--warn:#9a6700;--dim:#8c959f;--accent:#0969da;--passbg:#dafbe1;--failbg:#ffebe9;--warnbg:#fff8c5;--code:#f3f4f6;
--ph0:#8250df;--ph1:#0969da;--ph2:#bf3989;--ph3:#1a7f37;--ph4:#bc4c00}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--card:#161b22;--line:#30363d;--pass:#3fb950;--fail:#f85149;--warn:#d29922;--dim:#6e7681;--accent:#4493f8;--passbg:#12261e;--failbg:#2d1214;--warnbg:#272115;--code:#1f242c;
--ph0:#a371f7;--ph1:#4493f8;--ph2:#db61a2;--ph3:#3fb950;--ph4:#f0883e}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:1220px;margin:0 auto;padding:24px 20px 48px}
h1{font-size:20px;margin:0 0 4px;overflow-wrap:anywhere}
h2{font-size:16px;margin:32px 0 10px}
.meta{color:var(--muted);font-size:13px}
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
.banner{margin:18px 0;padding:14px 16px;border-radius:10px;border:1px solid var(--line);background:var(--card)}
.banner.ok{border-color:var(--pass);background:var(--passbg)}
.banner.bad{border-color:var(--fail);background:var(--failbg)}
.banner .headline{font-weight:600;font-size:16px}
.banner dl{margin:8px 0 0;display:grid;grid-template-columns:auto 1fr;gap:4px 12px}
.banner dt{font-weight:600;color:var(--muted)}
.banner dd{margin:0}
.verdict{border:1px solid var(--line);border-radius:10px;background:var(--card);overflow:hidden}
.verdict details{border-top:1px solid var(--line)}
.verdict details:first-child{border-top:0}
.verdict summary{display:grid;grid-template-columns:28px minmax(160px,300px) 1fr auto;gap:10px;align-items:baseline;padding:10px 14px;cursor:pointer;list-style:none}
.verdict summary::-webkit-details-marker{display:none}
.verdict summary:hover{background:var(--code)}
.row-fail summary{background:var(--failbg)}
.row-title{font-weight:600}
.row-time{color:var(--muted);font-size:13px;white-space:nowrap}
.row-not-checked .row-summary{color:var(--muted)}
.row-config{color:var(--muted)}.cfg-denied{color:var(--fail)}
.evidence{margin:0;padding:8px 14px 12px 52px;white-space:pre-wrap;word-break:break-word;color:var(--fg);background:var(--code)}
.status-word{position:absolute;left:-9999px}
.figure{border:1px solid var(--line);border-radius:10px;background:var(--card);padding:12px;overflow-x:auto}
.figure svg{display:block;max-width:none;height:auto}
.caption{color:var(--muted);font-size:13px;margin:6px 2px 0}
.figure svg.pathmap-vertical,.figure svg.ladder-compact,.figure svg.waterfall-compact{display:none}
.figure svg.pathmap-horizontal{max-width:100%}
.badge{display:inline-flex;align-items:center;justify-content:center;width:22px;height:22px;border-radius:50%;font-weight:700;font-size:13px;color:#fff;flex:none;vertical-align:-4px}
.badge-pass{background:var(--pass)}.badge-fail{background:var(--fail)}.badge-warn{background:var(--warn)}.badge-not-checked{background:transparent;color:var(--dim);border:1.5px dashed var(--dim)}
svg text{fill:var(--fg);font:12px system-ui,sans-serif}
svg .node rect{fill:var(--card);stroke:var(--line);stroke-width:1.5}
svg .node-pass rect{stroke:var(--pass);fill:var(--passbg)}
svg .node-quiet rect{stroke:var(--warn);stroke-dasharray:4 3}
svg .node-fail rect{stroke:var(--fail);stroke-width:3;fill:var(--failbg)}
svg .node-skipped rect,svg .node-unknown rect{stroke:var(--dim);stroke-dasharray:3 3;fill:transparent}
svg .node-skipped text,svg .node-unknown text{fill:var(--dim)}
svg .node-label{text-anchor:middle;font-weight:600}
svg .node-failing .node-label{fill:var(--fail)}
svg .node-detail{text-anchor:middle;font-size:11px;fill:var(--muted)}
svg .edge{stroke:var(--muted);stroke-width:1.6;fill:none}
svg .edge-dim{stroke:var(--dim);stroke-dasharray:3 3}
svg .edge-fail{stroke:var(--fail);stroke-width:2.2}
svg .edge-alt{stroke:var(--dim);stroke-dasharray:5 3}
svg .node-lb-carried rect{stroke-width:3}
svg .node-lb-other rect{stroke-dasharray:5 3}
svg .node-lb-by-timing rect{stroke-dasharray:1 4;stroke-linecap:round}
svg .node-matched{text-anchor:middle;font-size:10px;font-weight:600;fill:var(--accent)}
svg .node-lb-by-timing .node-matched{fill:var(--warn);font-style:italic}
svg .arrowhead{fill:var(--muted)}
svg .lane{stroke:var(--line);stroke-width:1.5}
svg .lane-label{text-anchor:middle;font-weight:600}
svg .nat rect{fill:var(--warnbg);stroke:var(--warn)}
svg .nat-band{fill:var(--warnbg);opacity:.45}
svg text.nat-addr{font-size:10px;fill:var(--warn);font-weight:600}
svg .nat text{text-anchor:middle;font-size:10px}
svg .msg line{stroke-width:1.6}
svg .msg-req line{stroke:var(--accent)}
svg .msg-req circle{fill:var(--accent)}
svg .msg-resp line{stroke:var(--pass)}
svg .msg-resp circle{fill:var(--pass)}
svg .msg-rst line{stroke:var(--fail)}
svg .msg-rst circle{fill:var(--fail)}
svg .msg-lost line{stroke-dasharray:5 3}
svg .msg-missing line{stroke:var(--fail)}
svg .msg-label{text-anchor:middle;font-weight:600;font-size:11px}
svg .copy-time,svg .row-time{font-size:9.5px;fill:var(--muted)}
svg .lane-label-compact{font-size:9.5px}
svg .msg-label-compact{font-size:9.5px}
svg .copy-time-compact{font-size:8px}
svg .nat-compact text{font-size:9px}
svg .lost-inline{fill:var(--fail);font-weight:700}
svg .wf-wait{stroke:var(--fail);stroke-width:2;stroke-dasharray:4 3}
svg .lost{fill:var(--fail);font-weight:700;font-size:16px}
svg .legend,svg .wf-total{font-size:11px;fill:var(--muted)}
svg .ph-0{fill:var(--ph0)} svg .ph-1{fill:var(--ph1)} svg .ph-2{fill:var(--ph2)} svg .ph-3{fill:var(--ph3)} svg .ph-4{fill:var(--ph4)}
table.hops{border-collapse:collapse;width:100%;font-size:13px}
table.hops th,table.hops td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line)}
table.hops td.star{color:var(--warn)}
.expand{float:right;font:inherit;font-size:13px;background:none;border:1px solid var(--line);color:var(--accent);border-radius:6px;padding:2px 10px;cursor:pointer}
footer{margin-top:36px;color:var(--muted);font-size:12px}
@media (max-width:720px){
 main{padding:16px 12px 32px}
 .verdict summary{grid-template-columns:24px 1fr auto;padding:10px}
 .verdict .row-summary{grid-column:2 / 4}
 .evidence{padding-left:14px}
 .figure svg.pathmap-horizontal{display:none}
 .figure svg.pathmap-vertical{display:block;margin:0 auto}
 .figure{padding:8px}
 .figure svg.ladder,.figure svg.waterfall{display:none}
 .figure svg.ladder-compact,.figure svg.waterfall-compact{display:block;width:100%;max-width:440px;height:auto;margin:0 auto}
}
@media print{
 :root{--bg:#fff;--fg:#000;--card:#fff;--code:#f6f6f6}
 body{font-size:11pt}
 main{max-width:none;padding:0}
 .expand{display:none}
 .figure{overflow:visible;break-inside:avoid}
 .figure svg{max-width:100%}
 .figure svg.pathmap-horizontal,.figure svg.ladder-compact,.figure svg.waterfall-compact{display:none}
 .figure svg.pathmap-vertical,.figure svg.ladder,.figure svg.waterfall{display:block}
 .badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 details{break-inside:avoid}
 h2{break-after:avoid}
}`;

// Opens every row before printing (a closed <details> would print closed) and wires the
// expand-all button. No network, no external script.
const JS = `
(function(){
  var rows=document.querySelectorAll('.verdict details');
  function all(open){rows.forEach(function(d){d.open=open;});}
  window.addEventListener('beforeprint',function(){all(true);});
  var b=document.getElementById('expand-all');
  if(b)b.addEventListener('click',function(){var open=b.getAttribute('data-open')!=='1';all(open);b.setAttribute('data-open',open?'1':'0');b.textContent=open?'collapse all':'expand all';});
})();`;

function verdictTable(r: FollowResult): string {
  return r.verdict.rows.map((row) => {
    const open = row.status === 'fail' ? ' open' : '';
    const evidence = row.evidence.length ? row.evidence.map(esc).join('\n') : 'no evidence recorded';
    return `<details class="row row-${row.status}" data-layer="${row.layer}" data-status="${row.status}"${open}>` +
      `<summary>${badge(row.status)}` +
      `<span class="row-title">${esc(row.title)}<span class="status-word"> — ${WORD[row.status]}</span></span>` +
      `<span class="row-summary">${esc(row.summary)}${row.config ? `<br><small class="row-config cfg-${row.config.status}">AWS configuration: ${esc(row.config.summary)}</small>` : ''}</span>` +
      `<span class="row-time">${row.timingMs !== null ? fmtMs(row.timingMs) : ''}</span></summary>` +
      `<pre class="evidence">${evidence}</pre></details>`;
  }).join('\n');
}

function hopsTable(r: FollowResult): string {
  if (r.routes.length === 0) return '<p class="caption">No route was traced.</p>';
  return r.routes.map((t) => {
    const rows = t.hops.map((h) => {
      const who = h.responders.length ? h.responders.map((x) => esc(x.address)).join('<br>') : '*';
      const rtts = h.responders.flatMap((x) => x.rttMs);
      const rtt = rtts.length ? `${fmtMs(Math.min(...rtts))} / ${fmtMs(rtts.reduce((a, b) => a + b, 0) / rtts.length)} / ${fmtMs(Math.max(...rtts))}` : '—';
      return `<tr data-ttl="${h.ttl}"><td>${h.ttl}</td><td class="${h.responders.length ? '' : 'star'}">${who}${h.isDestination ? ' (destination)' : ''}</td><td>${rtt}</td><td>${Math.round(h.lossPct)}%</td><td>${h.flag ? esc(h.flag) : ''}</td></tr>`;
    }).join('');
    const head = `${esc(t.proto)}${t.port !== null ? `/${t.port}` : ''} to ${esc(t.address)}: ${t.status === 'reached' ? `reached at hop ${t.reachedAtTtl}` : t.status === 'error' ? `error: ${esc(t.error ?? '')}` : 'not reached'}`;
    return `<h3 class="caption">${head}</h3><table class="hops"><thead><tr><th>hop</th><th>address</th><th>RTT min / avg / max</th><th>loss</th><th></th></tr></thead><tbody>${rows}</tbody></table>` +
      (t.explanation ? `<p class="caption">${esc(t.explanation)}</p>` : '');
  }).join('');
}

/** Each request's journey on the instance as text (the same lines the terminal shows), and the host facts behind the cause. */
function journeyBlock(r: FollowResult): string {
  const s = r.server;
  if (!s || s.status !== 'ok') return '';
  const parts: string[] = [];
  for (const q of s.requests) {
    const j = q.journey;
    if (!j) continue;
    const node = r.requests.find((x) => x.traceId === q.traceRoot)?.node ?? q.address;
    parts.push(`${esc(`journey via ${node}: ${journeyHead(j)}`)}\n${journeySteps(j).map((l) => `  ${esc(l)}`).join('\n')}${q.break ? `\n  ${esc(`stopped: ${breakText(q.break, j)}`)}` : ''}`);
  }
  if (parts.length === 0) return '';
  const facts = r.verdict.facts.length ? `<p class="caption">Host facts behind the cause:</p><pre class="evidence" id="host-facts" style="padding-left:14px">${r.verdict.facts.map((f) => esc(factText(f))).join('\n')}</pre>` : '';
  return `<p class="caption">The journey of each request's connection: every packet against the path it should take (→ towards the application, ← back; ✗ the first point it was not seen at).</p><pre class="evidence" id="journeys" style="padding-left:14px">${parts.join('\n\n')}</pre>${facts}`;
}

export function renderHtmlReport(r: FollowResult): string {
  const v = r.verdict;
  const nodes = pathNodes(r);
  const ladder = ladderSvg(r);
  const ladderCompact = ladderCompactSvg(r);
  const waterfall = waterfallSvg(r);
  const waterfallCompact = waterfallCompactSvg(r);
  const failing = nodes.find((n) => n.failing);
  const carrier = nodes.find((n) => n.role === 'carried');
  const carrierName = carrier ? esc(carrier.label.replace(/ [★☆]$/, '')) : '';
  const tried = r.requests.length === 2 ? 'Both load-balancer nodes were tried' : `${r.requests.length} load-balancer nodes were tried`;
  const lbNote = !carrier ? ''
    : carrier.matchedBy === 'timing'
      ? ` ${tried}; ${CARRIER_STAR.timing} ${carrierName} carried the connection seen on the instance, matched <em>by timing</em>: no trace id got through, the requests go out one after the other, and the first connection on the instance fits ${carrierName}'s request, the first one the load balancer forwarded. The dashed ones were tried beside it.`
      : carrier.matchedBy === 'request-line'
        ? ` ${tried}; ${CARRIER_STAR['request-line']} ${carrierName} carried the request followed on the instance, matched by its request line (the method, path and Host the client sent; no trace id was sent); the dashed ones were tried beside it.`
        : ` ${tried}; ${CARRIER_STAR['trace-id']} ${carrierName} carried the request followed on the instance, matched by trace id (${esc(r.server?.traceId ?? '')}); the dashed ones were tried beside it.`;
  // The raw result rides along, so the page is also the data (`</` escaped for the script tag).
  const json = JSON.stringify(r).replace(/</g, '\\u003c');
  const banner = v.ok
    ? `<div class="banner ok" id="verdict-banner"><div class="headline">${badge('pass')} ${esc(v.headline)}</div></div>`
    : `<div class="banner bad" id="verdict-banner"><div class="headline">${badge('fail')} ${esc(v.headline)}</div><dl>` +
      (v.cause ? `<dt>cause</dt><dd>${esc(v.cause)}</dd>` : '') +
      (v.nextCheck ? `<dt>next</dt><dd>${esc(v.nextCheck)}</dd>` : '') +
      `<dt>exit code</dt><dd>${v.exitCode}</dd></dl></div>`;
  const s = r.server;
  const serverNote = !s
    ? (r.source === 'explain'
      ? `<p class="caption">No capture of the instance in the text: ${esc(r.howToCheck?.server ?? 'run tcpdump on the instance while the request runs')}.</p>`
      : '<p class="caption">No server capture: run <code>flowtrace follow URL --server ssh://user@INSTANCE</code> to see the request inside the instance.</p>')
    : s.status === 'error' ? `<p class="caption">The agent on ${esc(s.target)} failed: ${esc(s.error ?? '')}</p>` : '';
  const ladderBlock = ladder
    ? `<div class="figure" id="ladder">${ladder}${ladderCompact ?? ''}</div><p class="caption">Each row is one packet; dots are its copies on each interface (capture on ${esc(s!.target)}, ${s!.capturedPackets} packets${s!.matchedBy === 'trace-id' ? `, request found by trace id ${esc(s!.traceId ?? '')}` : s!.matchedBy === 'request-line' ? ', request found by its request line (method, path, Host)' : s!.matchedBy === 'timing' ? `, connection found by timing (no HTTP got through)${carrier?.matchedBy === 'timing' ? `; it fits ${carrierName}'s request` : ''}` : ''}). Times are ms since the first packet.${s!.nat[0] ? ` Between ${esc(s!.nat[0].between.replace(' → ', ' and '))} the host's DNAT rewrites ${esc(s!.nat[0].from)} to ${esc(s!.nat[0].to)}.` : ''}</p>` +
      (s!.path.length ? `<pre class="evidence" style="padding-left:14px">${s!.path.map(esc).join('\n')}</pre>` : '')
    : `<p class="caption">${s && s.status === 'ok' ? 'No packet of the request was captured on the instance.' : 'Not captured.'}</p>${serverNote}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>flowtrace: ${esc(r.url)} — ${v.ok ? 'ok' : 'failed'}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>flowtrace ${r.source === 'explain' ? 'explain' : 'follow'} ${esc(r.url)}</h1>
<div class="meta">${r.source === 'explain' ? `from ${r.explain?.parts.length ?? 0} parts of pasted text (${esc((r.explain?.parts ?? []).map((p) => `${p.format} ${p.source}:${p.fromLine}–${p.toLine}`).join(', '))})` : `${esc(r.startedAt)} · ${fmtMs(r.durationMs)}`} · ${r.options.server ? `server ${esc(r.options.server)}` : 'no server capture'} · schema v${r.schemaVersion}</div>
${banner}
<h2>What we proved <button class="expand" id="expand-all" type="button">expand all</button></h2>
<div class="verdict" id="verdict">
${verdictTable(r)}
</div>
<h2>Path</h2>
<div class="figure" id="pathmap">${pathMapSvg(nodes, 'horizontal')}${pathMapSvg(nodes, 'vertical')}</div>
<p class="caption">${failing ? `✗ marks where the request stopped: <strong>${esc(failing.label)}</strong> (${esc(failing.detail)}). Grey dashed boxes were never reached.` : v.ok ? 'Every point on the path was seen working.' : 'The failure could not be pinned to one point; see the verdict.'} Dashed amber boxes are routers that do not answer traceroute (normal on real networks).${lbNote}</p>
<h2>Packets on the instance</h2>
${ladderBlock}
${journeyBlock(r)}
<h2>Client timings</h2>
${waterfall ? `<div class="figure" id="waterfall">${waterfall}${waterfallCompact ?? ''}</div><p class="caption">One bar per load-balancer address tried; phases as curl names them (namelookup, connect, appconnect, starttransfer, total).</p>` : '<p class="caption">No request was sent.</p>'}
<h2>Route</h2>
${hopsTable(r)}
<footer>Generated by flowtrace ${esc(r.tool.version)}. This file is self-contained: the full result (schema v${r.schemaVersion}, docs/follow.md) is embedded below.</footer>
</main>
<script type="application/json" id="flowtrace-result">${json}</script>
<script>${JS}</script>
</body>
</html>
`;
}
