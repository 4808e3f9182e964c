/**
 * Golden files: every capture in test/data/flow/ (real ones from make-captures.ts, crafted
 * ones from make-crafted.ts) analysed with its ifmap; the JSON must equal <name>.golden.json
 * and the text <name>.golden.txt. After an intended change, regenerate and review the diff:
 *   UPDATE_GOLDEN=1 node --import tsx --test test/flow/golden.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIfmap } from '../../src/capture/index.js';
import { analyzeCapture, renderAnalysis } from '../../src/flow/index.js';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'flow');
const update = process.env.UPDATE_GOLDEN === '1';

const captures = readdirSync(DATA).filter((f) => f.endsWith('.pcap')).sort();

test('test/data/flow has the real and crafted captures', () => {
  for (const name of ['seed-keepalive', 'app-down', 'dnat-missing', 'crafted-retransmission', 'crafted-rst', 'crafted-pipelining',
    'crafted-split-heads', 'crafted-keepalive-midstream', 'crafted-chunked', 'crafted-dnat-missing']) {
    assert.ok(captures.includes(`${name}.pcap`), `${name}.pcap missing`);
  }
});

for (const file of captures) {
  const name = file.replace(/\.pcap$/, '');
  test(`golden: ${name}`, async () => {
    const ifmapFile = path.join(DATA, `${name}.ifmap`);
    const ifmap = existsSync(ifmapFile) ? parseIfmap(readFileSync(ifmapFile, 'utf8')) : undefined;
    const { analysis } = await analyzeCapture(path.join(DATA, file), ifmap ? { ifmap } : {});
    const json = JSON.stringify(analysis, null, 2) + '\n';
    const text = renderAnalysis(analysis);
    const jsonFile = path.join(DATA, `${name}.golden.json`);
    const textFile = path.join(DATA, `${name}.golden.txt`);
    if (update || !existsSync(jsonFile)) {
      writeFileSync(jsonFile, json);
      writeFileSync(textFile, text);
      if (!update) assert.fail(`${name}.golden.json did not exist: written now, review it and run again`);
      return;
    }
    assert.deepEqual(JSON.parse(json), JSON.parse(readFileSync(jsonFile, 'utf8')), `${name}: JSON differs from the golden file`);
    assert.equal(text, readFileSync(textFile, 'utf8'), `${name}: text differs from the golden file`);
  });
}
