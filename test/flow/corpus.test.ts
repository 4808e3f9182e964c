/**
 * Hostile input: every capture of tcpdump's own test corpus (../shared/corpus/tcpdump/tests,
 * 830 files, many made to crash decoders) goes through the whole flow analysis and the text
 * renderer. Each must end in an analysis or a FlowtraceError (bad file), never another
 * exception. Also records that the corpus really exercised the analyzer (TCP, HTTP).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isFlowtraceError } from '../../src/errors.js';
import { analyzeCapture, renderAnalysis } from '../../src/flow/index.js';

import { TCPDUMP_CORPUS as CORPUS, requireCorpus } from '../helpers/corpus.js';

test('every capture of the tcpdump corpus analyses without a crash', { timeout: 300_000 }, async () => {
  requireCorpus();
  const files = readdirSync(CORPUS).filter((f) => /\.(pcap|pcapng)$/.test(f)).sort();
  assert.ok(files.length > 800, `expected the whole corpus, found ${files.length}`);
  const crashes: string[] = [];
  let analysed = 0;
  let rejected = 0;
  let tcpRecords = 0;
  let exchanges = 0;
  let connections = 0;
  for (const f of files) {
    try {
      const { analysis } = await analyzeCapture(path.join(CORPUS, f), { onWarning: () => {} });
      renderAnalysis(analysis);
      JSON.stringify(analysis);
      analysed++;
      tcpRecords += analysis.capture.tcpRecords;
      exchanges += analysis.exchanges.length;
      connections += analysis.connections.length;
    } catch (err) {
      if (isFlowtraceError(err)) rejected++;
      else crashes.push(`${f}: ${err instanceof Error ? err.stack?.split('\n').slice(0, 3).join(' | ') : String(err)}`);
    }
  }
  assert.deepEqual(crashes, [], `${crashes.length} captures crashed the analysis`);
  assert.ok(analysed > 700, `analysed ${analysed}, rejected ${rejected}`);
  assert.ok(tcpRecords > 1000 && connections > 100 && exchanges > 0, `corpus coverage: ${tcpRecords} TCP records, ${connections} connections, ${exchanges} exchanges`);
});

test('a third-party capture from the corpus: tcpdump\'s print-flags.pcap (HTTP on loopback)', async () => {
  requireCorpus();
  const { analysis } = await analyzeCapture(path.join(CORPUS, 'print-flags.pcap'));
  assert.equal(analysis.connections.length, 1);
  const c = analysis.connections[0];
  assert.deepEqual([c.client, c.server], [{ address: '127.0.0.1', port: 55920 }, { address: '127.0.0.1', port: 80 }]);
  assert.equal(c.rolesFrom, 'syn');
  assert.deepEqual(c.closedBy, { how: 'fin', from: 'client' });
  assert.equal(c.handshake?.synToSynAckMs, 0.056); // 35.938066 → 35.938122
  assert.equal(analysis.exchanges.length, 1);
  const ex = analysis.exchanges[0];
  assert.equal(`${ex.request?.method} ${ex.request?.target} ${ex.response?.status}`, 'GET / 200');
  assert.equal(ex.timeToFirstByteMs, 1.809); // 35.939423 → 35.941232, as tcpdump shows
  assert.equal(c.toClient.payloadBytes, 5559);
  assert.deepEqual(analysis.anomalies, []);
});
