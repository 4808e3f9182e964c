import { spawn } from 'node:child_process';
import { labUp, labDown, injectFault, healFault, LAB } from '../src/lab/index.js';
import { curl } from '../test/lab/helpers.js';
const s = await labUp();
try {
  for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
    await healFault();
    await injectFault('keepalive-race');
    const caps = LAB.targets.map((t) => { const c = spawn('ip', ['netns', 'exec', `ft-${t.node}`, 'tcpdump', '-i', 'ens5', '-nn', '-l', '--immediate-mode', 'tcp port 80 and not (tcp[13] & 2 != 0 and tcp[13] & 16 = 0)'], { stdio: ['ignore', 'pipe', 'ignore'] }); let out = ''; c.stdout.on('data', (b) => { out += b; }); return { t, c, get out() { return out; } }; });
    await new Promise((r) => setTimeout(r, Number(process.env.WAIT ?? 1500)));
    const t0 = Date.now();
    const r1 = await curl(`http://${LAB.domain}/`, ['--resolve', `${LAB.domain}:80:${LAB.albA.public}`]);
    const r2 = await curl(`http://${LAB.domain}/`, ['--resolve', `${LAB.domain}:80:${LAB.albA.public}`]);
    await new Promise((r) => setTimeout(r, 300));
    for (const x of caps) x.c.kill('SIGINT');
    console.log(`round ${round}: ${r1.status} ${r1.body.includes('instance') ? JSON.parse(r1.body).instance : ''} / ${r2.status} ${r2.body.includes('instance') ? JSON.parse(r2.body).instance : ''} at ${new Date(t0).toISOString()}`);
    for (const x of caps) console.log(x.t.name + '\n' + x.out.split('\n').filter((l) => l.includes('172.31.0.10')).join('\n'));
  }
} finally { await healFault(); if (!s.alreadyUp) await labDown(); }
