import { join } from 'node:path';
import { describe, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { meshTlsPlugin } from './plugin.ts';

describe('meshtls plugin: golden translations', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshTlsPlugin])) it(name, run);
});
