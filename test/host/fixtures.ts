/** The recorded outputs of test/data/host/ (made by ./record-fixtures.ts; see its README). */
import fs from 'node:fs';

export function fixture(name: string): string {
  return fs.readFileSync(new URL(`../data/host/${name}`, import.meta.url), 'utf8');
}
