import { join } from 'node:path';
import { describe, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { meshTrafficPermissionPlugin } from './plugin.ts';

describe('meshtrafficpermission plugin: golden translations', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshTrafficPermissionPlugin])) it(name, run);
});
