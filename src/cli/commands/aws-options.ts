/** What the commands that read the AWS configuration share (not a command: no `run`). */

/**
 * The SDK warns on stderr, once per process, that its releases from 2027 need Node 22: a
 * notice for whoever maintains flowtrace's dependencies, not for its user (BENCHMARKS and
 * package.json say the Node version). Only the CLI decides what is printed.
 */
export function quietAwsSdk(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}
