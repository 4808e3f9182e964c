/**
 * The lab's ALB nodes write AWS's access-log format (as root): every line both nodes wrote
 * formats back from its record; the HTTPS fields and a quoted User-Agent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { LAB, labUp, labDown, readAccessLog, formatAccessLogLine, parseAccessLogLine } from '../../src/lab/index.js';
import { ROOT_SKIP, curl, sleep } from './helpers.js';

test('the lab (root): every line both ALB nodes wrote formats back from its record; HTTPS fields and a quoted User-Agent', { skip: ROOT_SKIP }, async () => {
  const s = await labUp();
  try {
    const agent = String.raw`lab-test/1 ("quoted" \ x)`;
    const roots: string[] = [];
    for (const [node, alb] of [['alb-a', LAB.albA], ['alb-b', LAB.albB]] as const) {
      for (const scheme of ['http', 'https'] as const) {
        const root = `1-${Math.floor(Date.now() / 1000).toString(16)}-${(roots.length + 1).toString(16).padStart(24, '0')}`;
        roots.push(root);
        const port = scheme === 'http' ? 80 : 443;
        const r = await curl(`${scheme}://${LAB.domain}/`, ['--resolve', `${LAB.domain}:${port}:${alb.public}`, '--cacert', LAB.caFile, '-A', agent, '-H', `X-Amzn-Trace-Id: Root=${root}`]);
        assert.equal(r.status, 200, r.stderr);
        let rec = readAccessLog(node).find((l) => l.traceId?.endsWith(`Root=${root}`));
        for (let i = 0; i < 40 && !rec; i++) { await sleep(50); rec = readAccessLog(node).find((l) => l.traceId?.endsWith(`Root=${root}`)); }
        assert.ok(rec, `${node} logged ${root}`);
        assert.equal(rec.node, node);
        assert.equal(rec.type, scheme);
        assert.equal(rec.userAgent, agent);
        assert.ok(LAB.targets.some((t) => rec!.target === `${t.ens5}:80`), `a target: ${rec.target}`);
        assert.equal(rec.targetPortList, rec.target);
        if (scheme === 'https') {
          assert.equal(rec.domainName, LAB.domain);
          assert.match(rec.sslProtocol ?? '', /^TLSv1\.[23]$/);
          assert.ok(rec.sslCipher && rec.chosenCertArn, 'cipher and certificate logged');
        }
      }
      const lines = fs.readFileSync(LAB.accessLogs[node], 'utf8').split('\n').filter((l) => l !== '');
      assert.ok(lines.length >= 2);
      for (const line of lines) assert.equal(formatAccessLogLine(parseAccessLogLine(line, node)!), line);
    }
  } finally {
    if (!s.alreadyUp) await labDown();
  }
});
