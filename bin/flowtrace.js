#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (npm run build makes dist/).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err) => {
    // main() turns every known error into a one-line message; this is the last guard.
    process.stderr.write(`error[INTERNAL]: ${err && err.message ? err.message : String(err)}\nhint: this is a bug in flowtrace; please report it with the command you ran\n`);
    process.exitCode = 70;
  },
);
