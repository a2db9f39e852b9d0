import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { expect } from 'vitest';

/**
 * Compares `actual` with the YAML golden file as DATA (key order and formatting do not matter), so golden files can be
 * written by hand from another implementation's expected output. `UPDATE_GOLDEN=1` rewrites the file from `actual`.
 */
export function expectGoldenYaml(path: string, actual: unknown): void {
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(path)) {
    if (!existsSync(path) && process.env['CI']) throw new Error(`golden file ${path} is missing (run with UPDATE_GOLDEN=1 locally)`);
    writeFileSync(path, stringify(actual));
    return;
  }
  expect(JSON.parse(JSON.stringify(actual)), `golden file ${path} differs (UPDATE_GOLDEN=1 to accept)`).toEqual(parse(readFileSync(path, 'utf8')));
}
