/**
 * How to run flowtrace's own code in a child process (inside a namespace, over ssh, as the
 * lab's ALB or app). Under tests (tsx, .ts sources) children run the sources through tsx;
 * from the build they run the compiled files.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const runningFromSource = import.meta.url.endsWith('.ts');

/** The repository (or installed package) root. */
export const PACKAGE_ROOT = runningFromSource ? path.resolve(here, '..') : path.resolve(here, '..', '..');

/**
 * argv to run a module of this package as a program, e.g. selfModuleArgv('lab/alb-main')
 * → [node, (--import tsx), <root>/dist/src/lab/alb-main.js]. `modulePath` is relative to src/,
 * without extension.
 */
export function selfModuleArgv(modulePath: string): string[] {
  if (runningFromSource) {
    return [process.execPath, '--import', 'tsx', path.join(PACKAGE_ROOT, 'src', `${modulePath}.ts`)];
  }
  return [process.execPath, path.join(PACKAGE_ROOT, 'dist', 'src', `${modulePath}.js`)];
}

/** argv that runs the flowtrace CLI itself: [...selfCliArgv(), 'agent'] etc. */
export function selfCliArgv(): string[] {
  return selfModuleArgv('cli/bin');
}
