/**
 * The lab's container app as a program (run inside ft-container):
 *   app-main --port 8080 [--instance NAME] [--host ADDR] [--delay-ms N] [--status NNN] [--keep-alive-ms N] [--ready-file PATH]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createApp } from './app.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8080' },
    host: { type: 'string', default: '0.0.0.0' },
    'delay-ms': { type: 'string', default: '0' },
    status: { type: 'string', default: '0' },
    'keep-alive-ms': { type: 'string', default: '65000' },
    instance: { type: 'string' },
    'ready-file': { type: 'string' },
  },
});
const server = createApp({ port: Number(values.port), delayMs: Number(values['delay-ms']), status: Number(values.status), keepAliveMs: Number(values['keep-alive-ms']), instance: values.instance });
server.on('error', (e) => { process.stderr.write(`app: ${e.message}\n`); process.exit(1); });
server.listen(Number(values.port), values.host, () => {
  process.stdout.write(`app: listening on ${values.host}:${values.port}\n`);
  if (values['ready-file']) fs.writeFileSync(values['ready-file'], `${process.pid}\n`);
});
const stop = () => { server.close(); server.closeAllConnections(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
