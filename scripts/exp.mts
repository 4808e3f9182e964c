import { labUp, labDown, injectFault, healFault } from '../src/lab/index.js';
import { followInClient, verdictLine } from '../test/follow/lab-follow.js';
import { renderTerminal } from '../src/report/index.js';
const faults = process.argv.slice(2);
const s = await labUp();
try {
  await healFault();
  for (const f of faults) {
    if (f !== 'healthy') await injectFault(f);
    const run = await followInClient(f === 'mtu-blackhole' ? 'http://seqas.online/page' : undefined);
    console.log(verdictLine(f, run));
    if (process.env.SHOW && run.result) console.log(renderTerminal(run.result, { color: false, width: 140, verbose: process.env.SHOW === 'v' }));
    if (!run.result) console.log(run.stderr);
    if (f !== 'healthy') await healFault(f);
  }
} finally {
  await healFault().catch(() => {});
  if (!s.alreadyUp && !process.env.KEEP) await labDown();
}
