/**
 * One ALB node as a program (run inside ft-alb-a / ft-alb-b):
 *   alb-main --config PATH [--ready-file PATH] [--without-listener PORT]
 * The config is an AlbConfig as JSON (`--without-listener` only says that its listeners lack
 * that port: the lab restarts a node whose listeners change). SIGHUP re-reads it (targets, timeouts, failOpen,
 * health check); SIGTERM closes the listeners and exits.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { startAlb, type AlbConfig } from './alb.js';

const { values } = parseArgs({ options: { config: { type: 'string' }, 'ready-file': { type: 'string' }, 'without-listener': { type: 'string' } } });
if (!values.config) {
  process.stderr.write('alb-main: --config PATH is required\n');
  process.exit(2);
}
const configPath = values.config;
const readConfig = (): AlbConfig => JSON.parse(fs.readFileSync(configPath, 'utf8')) as AlbConfig;

try {
  const alb = await startAlb(readConfig());
  process.stdout.write(`alb: ${readConfig().name} listening on ${alb.ports().join(', ')}\n`);
  // Ready once the target health is known (a new target is not in service before its first
  // check): `lab up` then returns with the nodes answering at once and `lab status` current.
  await alb.firstChecks;
  if (values['ready-file']) fs.writeFileSync(values['ready-file'], `${process.pid}\n`);
  process.on('SIGHUP', () => {
    try {
      const c = readConfig();
      alb.reconfigure({ targets: c.targets, targetTimeoutMs: c.targetTimeoutMs, failOpen: c.failOpen, healthCheck: c.healthCheck });
      process.stdout.write(`alb: reloaded (${c.targets.length} target(s))\n`);
    } catch (e) {
      process.stderr.write(`alb: reload failed: ${(e as Error).message}\n`);
    }
  });
  const stop = () => { void alb.close().finally(() => process.exit(0)); setTimeout(() => process.exit(0), 500).unref(); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} catch (e) {
  process.stderr.write(`alb: ${(e as Error).message}\n`);
  process.exit(1);
}
