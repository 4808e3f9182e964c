/**
 * remote/: a server reached over ssh with nothing of flowtrace installed there — one
 * multiplexed connection made by the user's own ssh, the list of commands run there (and the
 * sudoers lines that allow exactly them), and capture/live's and host/'s seams (runner,
 * capture engine, namespace source) over it. The public surface.
 */
export { parseSshTarget, sshDestination, formatSshTarget, type SshTarget } from './target.js';
export { openSsh, sshBaseArgv, classifySshFailure, pidAlive, SSH_DEFAULTS, type SshConnection, type SshOptions, type ExecResult, type SessionChild } from './ssh.js';
export { checkRemoteWord, shellWord, shellLine, MAX_REMOTE_WORD_BYTES } from './words.js';
export {
  REMOTE_PROGRAMS, REMOTE_CAPTURE, DEBIAN_PATHS, remoteCommands, findRemoteCommand, captureArgv, sudoersLine, sudoersLines,
  type RemoteCommand, type RemoteProgram, type ProgramPaths,
} from './commands.js';
export { preflight, parsePreflight, installHint, PREFLIGHT_SCRIPT, type RemoteHost } from './preflight.js';
export { remoteRunner, batchScript, parseBatch, MAX_BATCH, type RemoteRunner } from './runner.js';
export { sshCaptureEngine, watchdogLine, remoteCaptureArgv } from './engine.js';
export { connectRemote, type RemoteServer } from './server.js';
