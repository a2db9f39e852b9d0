import { join } from 'node:path';
import { describe, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { meshFaultInjectionPlugin } from './plugin.ts';

describe('meshfaultinjection plugin: golden translations', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshFaultInjectionPlugin])) it(name, run);
});
