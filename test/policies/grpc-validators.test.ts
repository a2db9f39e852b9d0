import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { meshCircuitBreakerPlugin } from '../../libs/policies/meshcircuitbreaker/plugin.ts';
import { meshHealthCheckPlugin } from '../../libs/policies/meshhealthcheck/plugin.ts';
import { meshLoadBalancingStrategyPlugin } from '../../libs/policies/meshloadbalancingstrategy/plugin.ts';
import { meshRetryPlugin } from '../../libs/policies/meshretry/plugin.ts';
import { meshTimeoutPlugin } from '../../libs/policies/meshtimeout/plugin.ts';
import { loadCase } from '../../libs/testkit/translation-cases.ts';
import type { TranslationPlugin } from '../../libs/xds/generate/plugin.ts';
import { TypeUrl } from '../../libs/xds/protos.ts';
import { Translator } from '../../libs/xds/translator.ts';
import { grpcDecodeError, grpcValidates } from './grpc-validate.ts';

/**
 * Every golden case of the five resilience plugins, decoded and validated by grpc-js-xds'
 * own validators: the Clusters and ClusterLoadAssignments (shared with proxyless gRPC clients)
 * and the proxyless client Listeners (api_listener with the inline route) must be accepted.
 * Fast and exhaustive over the cases; resilience-grpc-ack.test.ts proves the same with a real
 * client over ADS for one configuration per plugin.
 */
const PLUGINS: Record<string, TranslationPlugin> = {
  meshtimeout: meshTimeoutPlugin,
  meshretry: meshRetryPlugin,
  meshcircuitbreaker: meshCircuitBreakerPlugin,
  meshhealthcheck: meshHealthCheckPlugin,
  meshloadbalancingstrategy: meshLoadBalancingStrategyPlugin,
};
/** Cases whose output is Envoy-only by design (gRPC has no MurmurHash2 ring hash). */
const EXPECTED_NACK: Record<string, RegExp> = { 'meshloadbalancingstrategy/ring-hash-murmur': /hash_function/ };

function grpcErrors(folder: string, file: string): string[] {
  const { mesh, views, dataplane, policies } = loadCase(join(import.meta.dirname, '../../libs/policies', folder, 'testdata', file));
  const snapshot = new Translator(undefined, [PLUGINS[folder]!]).translate(mesh, dataplane, views.get(mesh)!, policies);
  const errors: string[] = [];
  for (const [section, maps] of [['resources', snapshot.resources], ['namedOnly', snapshot.namedOnly]] as const) {
    for (const [typeUrl, byName] of maps) {
      if (!grpcValidates(typeUrl)) continue;
      for (const r of byName.values()) {
        // gRPC asks only for client listeners (named after a service) and server listeners of its own; Envoy's listeners are not for it.
        if (typeUrl === TypeUrl.Listener && !(section === 'namedOnly' && !r.name.startsWith('kuma.io/grpc/'))) continue;
        // Nor for the STATIC clusters of Envoy itself (local application, admin): gRPC asks only for services' EDS clusters.
        if (typeUrl === TypeUrl.Cluster && r.body['type'] === 'STATIC') continue;
        const error = grpcDecodeError(typeUrl, r.bytes);
        if (error) errors.push(`${r.name}: ${error}`);
      }
    }
  }
  return errors;
}

describe('grpc-js-xds validators accept the resilience plugins\' resources', () => {
  for (const folder of Object.keys(PLUGINS)) {
    const dir = join(import.meta.dirname, '../../libs/policies', folder, 'testdata');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.input.yaml'))) {
      const key = `${folder}/${file.replace('.input.yaml', '')}`;
      it(key, () => {
        const errors = grpcErrors(folder, file);
        if (EXPECTED_NACK[key]) expect(errors.join('\n')).toMatch(EXPECTED_NACK[key]);
        else expect(errors).toEqual([]);
      });
    }
  }
});
