import { join } from 'node:path';
import { describe, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { meshHttpRoutePlugin } from './plugin.ts';

describe('MeshHTTPRoute plugin: golden translations', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshHttpRoutePlugin])) it(name, run);
});
