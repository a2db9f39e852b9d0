import { join } from 'node:path';
import { describe, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { meshRateLimitPlugin } from './plugin.ts';

describe('meshratelimit plugin: golden translations', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshRateLimitPlugin])) it(name, run);
});
