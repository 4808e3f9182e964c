/** The CLI as a program (what bin/flowtrace.js runs, and what children run under tsx). */
import { EXIT } from '../errors.js';
import { main } from './main.js';

// A reader that stops early (`flowtrace read big.pcap | head`) closes the pipe: stop quietly,
// as tcpdump does on SIGPIPE, instead of an EPIPE stack trace (docs/cli.md).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  process.stderr.write(`error[IO]: cannot write the output: ${err.message}\nhint: check the disk or the program reading flowtrace's output\n`);
  process.exit(EXIT.input);
});
process.stderr.on('error', () => { /* nowhere left to say it */ });

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error[INTERNAL]: ${message}\nhint: this is a bug in flowtrace; please report it with the command you ran\n`);
    process.exitCode = 70;
  },
);
