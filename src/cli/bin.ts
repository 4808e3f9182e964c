/** The CLI as a program (what bin/flowtrace.js runs, and what children run under tsx). */
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error[INTERNAL]: ${message}\nhint: this is a bug in flowtrace; please report it with the command you ran\n`);
    process.exitCode = 70;
  },
);
