/**
 * Words for the remote shell. ssh joins the words after the host with spaces and hands the
 * line to the user's login shell on the server, so every word flowtrace sends is checked
 * (printable text, bounded) and quoted: a word of plain characters goes as it is, anything
 * else between single quotes (a `'` inside as `'\''`). The shell then sees literals only —
 * the few shell words flowtrace adds itself (`&`, `;`, `$!` in ./engine.ts) are fixed text
 * of this package, never built from input.
 */
import { RemoteError } from '../errors.js';

/** The longest word sent (a capture filter is the longest: a few hundred bytes). */
export const MAX_REMOTE_WORD_BYTES = 2048;

/** Characters a POSIX shell takes literally outside quotes. */
const PLAIN_WORD = /^[A-Za-z0-9_./=:,@%+-]+$/;
/** Printable ASCII and space: no control characters (a newline would end the command). */
const SENDABLE = /^[\x20-\x7e]*$/;

/** Throws when `word` may not be sent to a remote shell. */
export function checkRemoteWord(word: string): void {
  if (!SENDABLE.test(word)) {
    throw new RemoteError('REMOTE_WORD', `refusing to send ${JSON.stringify(word.slice(0, 60))} to the remote shell: it has control or non-ASCII characters`,
      'remote command words are printable ASCII (a capture filter: pcap-filter syntax, e.g. port 80)', undefined, { word: word.slice(0, 200) });
  }
  if (Buffer.byteLength(word) > MAX_REMOTE_WORD_BYTES) {
    throw new RemoteError('REMOTE_WORD', `refusing to send a ${Buffer.byteLength(word)}-byte word to the remote shell (at most ${MAX_REMOTE_WORD_BYTES})`,
      'use a shorter capture filter', undefined, { bytes: Buffer.byteLength(word) });
  }
}

/** One word quoted for a POSIX shell (checked first). */
export function shellWord(word: string): string {
  checkRemoteWord(word);
  if (PLAIN_WORD.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** argv as one line for the remote shell: every word checked and quoted. */
export function shellLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new RemoteError('REMOTE_WORD', 'no command to send', 'this is a bug in flowtrace; please report it');
  return argv.map(shellWord).join(' ');
}
