import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { stateOf } from '../testkit/state-of.ts';
import { inspectRules } from './rules.ts';
import { meshViewsOf } from './views.ts';

const TYPES = new Set(['MeshTrace', 'MeshTimeout', 'MeshRetry']);

describe('inspectRules', () => {
  it("gives Kuma's InspectRules for an overridden MeshTimeout (Kuma's overriding_meshtimeout golden)", () => {
    const input = parse(readFileSync(join(import.meta.dirname, 'testdata/overriding_meshtimeout.input.yaml'), 'utf8'));
    const golden = JSON.parse(readFileSync(join(import.meta.dirname, 'testdata/overriding_meshtimeout.golden.json'), 'utf8'));
    const view = meshViewsOf(stateOf(input.resources), 'default', TYPES).get('default')!;
    const got = inspectRules(view, TYPES, view.dataplaneModel(input.proxy)!, { mesh: 'default', name: input.proxy, type: 'Dataplane' });
    // Kuma's golden predates httpMatches, toResourceRules and inboundRules; compare the rest exactly.
    const older = { resource: got.resource, rules: got.rules.map(({ inboundRules: _i, toResourceRules: _t, ...r }) => r) };
    expect(older).toEqual(golden);
    expect(got.httpMatches).toEqual([]);
    expect(got.rules[0]!.toResourceRules).toEqual([]);
    // The rules API view: each from[] entry as its own rule, in merge order, with its one origin.
    expect(got.rules[0]!.inboundRules).toEqual([
      {
        inbound: { port: 8080, tags: { 'kuma.io/service': 'foo' } },
        rules: [
          { conf: [{ connectionTimeout: '20s', idleTimeout: '20s', http: { requestTimeout: '10s' } }], origin: [{ resourceMeta: { type: 'MeshTimeout', mesh: 'default', name: 'default' }, ruleIndex: 0 }] },
          { conf: [{ http: { requestTimeout: '5s' } }], origin: [{ resourceMeta: { type: 'MeshTimeout', mesh: 'default', name: 'override' }, ruleIndex: 0 }] },
        ],
      },
    ]);
  });

  it('leaves out types without a policy selecting the proxy, and keeps a type whose only content is a warning, as Kuma does', () => {
    const state = stateOf([
      { type: 'Mesh', name: 'default' },
      { type: 'Dataplane', mesh: 'default', name: 'dp-1', networking: { address: '127.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'foo' } }] } },
      { type: 'MeshTrace', mesh: 'default', name: 'other', spec: { targetRef: { kind: 'MeshSubset', tags: { 'kuma.io/service': 'bar' } }, default: {} } },
      { type: 'MeshTimeout', mesh: 'default', name: 'by-route', spec: { targetRef: { kind: 'MeshHTTPRoute', name: 'missing' }, default: { http: { requestTimeout: '1s' } } } },
    ]);
    const view = meshViewsOf(state, 'default', TYPES).get('default')!;
    const got = inspectRules(view, TYPES, view.dataplaneModel('dp-1')!, { mesh: 'default', name: 'dp-1', type: 'Dataplane' });
    expect(got.rules.map((r) => r.type)).toEqual(['MeshTimeout']);
    expect(got.rules[0]).toMatchObject({ toRules: [], fromRules: [], inboundRules: [], toResourceRules: [] });
    expect(got.rules[0]!.warnings.length).toBe(1);
    expect(got.rules[0]!.warnings[0]).toContain('by-route');
  });
});
