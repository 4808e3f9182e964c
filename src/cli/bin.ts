/** The CLI as a program (what bin/flowtrace.js runs, and what children run under tsx). */
import { EXIT } from '../errors.js';
import { installOutputPolicy, promptExitRequested } from './io.js';
import { main } from './main.js';

// A reader that stops early (`flowtrace read big.pcap | head`) closes the pipe: stop quietly,
// as tcpdump does on SIGPIPE, instead of an EPIPE stack trace (docs/cli.md); commands that
// must wind down first say so with CliIO.onOutputClosed.
installOutputPolicy(EXIT.ok, EXIT.input);

main(process.argv.slice(2)).then(
  (code) => {
    // Interrupted (Ctrl-C, SIGTERM): exit now. Output still queued for a reader that does not
    // read (| less left open) would otherwise hold the process until that reader goes away.
    // A command that abandoned work on Ctrl-C (watch) asks for the same.
    if (code === EXIT.interrupted || promptExitRequested()) process.exit(code);
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`error[INTERNAL]: ${message}\nhint: this is a bug in flowtrace; please report it with the command you ran\n`);
    process.exitCode = 70;
  },
);
