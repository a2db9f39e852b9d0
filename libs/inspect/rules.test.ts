import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { stateOf } from '../testkit/state-of.ts';
import { inspectRules } from './rules.ts';
import { meshViewsOf } from './views.ts';

const TYPES = new Set(['MeshTimeout', 'MeshTrace', 'MeshRetry']);

describe('inspectRules', () => {
  it("gives Kuma's InspectRules for an overridden MeshTimeout (Kuma's overriding_meshtimeout golden)", () => {
    const input = parse(readFileSync(join(import.meta.dirname, 'testdata/overriding_meshtimeout.input.yaml'), 'utf8'));
    const golden = JSON.parse(readFileSync(join(import.meta.dirname, 'testdata/overriding_meshtimeout.golden.json'), 'utf8'));
    const view = meshViewsOf(stateOf(input.resources), 'default', TYPES).get('default')!;
    const got = inspectRules(view, TYPES, view.dataplaneModel(input.proxy)!, 'default');
    // Kuma's golden predates inboundRules; compare the rest exactly.
    const withoutInbound = { ...got, rules: got.rules.map(({ inboundRules: _, ...r }) => r) };
    expect(withoutInbound).toEqual(golden);
    expect(got.rules[0]!.inboundRules[0]!.rules[0]!.origin.map((o) => o.resourceMeta.name)).toEqual(['default', 'override']);
  });

  it('leaves out types without a policy selecting the proxy (one for another service, one on a missing route)', () => {
    const state = stateOf([
      { type: 'Mesh', name: 'default' },
      { type: 'Dataplane', mesh: 'default', name: 'dp-1', networking: { address: '127.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'foo' } }] } },
      { type: 'MeshTrace', mesh: 'default', name: 'other', spec: { targetRef: { kind: 'MeshSubset', tags: { 'kuma.io/service': 'bar' } }, default: {} } },
      { type: 'MeshTimeout', mesh: 'default', name: 'by-route', spec: { targetRef: { kind: 'MeshHTTPRoute', name: 'missing' }, default: { http: { requestTimeout: '1s' } } } },
    ]);
    const view = meshViewsOf(state, 'default', TYPES).get('default')!;
    const got = inspectRules(view, TYPES, view.dataplaneModel('dp-1')!, 'default');
    expect(got.rules.map((r) => r.type)).toEqual([]);
  });
});
