import { join } from 'node:path';
import { describe, it } from 'vitest';
import { translationCases } from '../../testkit/translation-cases.ts';
import { meshHttpRoutePlugin } from '../meshhttproute/plugin.ts';
import { meshTcpRoutePlugin } from './plugin.ts';

describe('MeshTCPRoute plugin: golden translations (with MeshHTTPRoute, which takes precedence)', () => {
  for (const [name, run] of translationCases(join(import.meta.dirname, 'testdata'), [meshHttpRoutePlugin, meshTcpRoutePlugin])) it(name, run);
});
