import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

/** Compares `actual` with the golden file; `UPDATE_GOLDEN=1` rewrites it instead. */
export function expectGolden(path: string, actual: string): void {
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(path)) {
    if (!existsSync(path) && process.env['CI']) throw new Error(`golden file ${path} is missing (run with UPDATE_GOLDEN=1 locally)`);
    writeFileSync(path, actual);
    return;
  }
  expect(actual, `golden file ${path} differs (UPDATE_GOLDEN=1 to accept)`).toBe(readFileSync(path, 'utf8'));
}
