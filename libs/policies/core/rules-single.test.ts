import { describe, expect, it } from 'vitest';
import type { PolicyItem } from './matchable.ts';
import { buildSingleItemRule } from './rules-single.ts';

const p = (name: string, targetRef: PolicyItem['spec']['targetRef'], def: unknown): PolicyItem => ({
  type: 'MeshProxyPatch',
  name,
  mesh: 'm',
  spec: { ...(targetRef ? { targetRef } : {}), ...(def !== undefined ? { default: def } : {}) },
});

describe('buildSingleItemRule (Kuma BuildSingleItemRules)', () => {
  it('merges default in priority order: kind, then name descending; append lists concatenate', () => {
    const rule = buildSingleItemRule([
      p('b-dp', { kind: 'Dataplane', labels: { app: 'web' } }, { appendModifications: [{ cluster: { operation: 'Add', value: 'dp' } }], flag: 'dp' }),
      p('a-mesh', { kind: 'Mesh' }, { appendModifications: [{ cluster: { operation: 'Add', value: 'a' } }], flag: 'a' }),
      p('z-mesh', undefined, { appendModifications: [{ cluster: { operation: 'Add', value: 'z' } }], flag: 'z' }),
      p('no-default', { kind: 'Mesh' }, undefined),
    ]);
    expect(rule.origin.map((o) => o.name)).toEqual(['z-mesh', 'a-mesh', 'b-dp']);
    expect(rule.conf).toEqual([
      {
        flag: 'dp',
        appendModifications: [
          { cluster: { operation: 'Add', value: 'z' } },
          { cluster: { operation: 'Add', value: 'a' } },
          { cluster: { operation: 'Add', value: 'dp' } },
        ],
      },
    ]);
  });

  it('is empty when nothing has a default', () => {
    expect(buildSingleItemRule([p('x', undefined, undefined)])).toEqual({ conf: [], origin: [] });
  });
});
