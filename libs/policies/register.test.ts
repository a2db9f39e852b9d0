import { describe, expect, it } from 'vitest';
import { kriOf } from '../resources/kri.ts';
import { fullRegistry } from './registry.ts';
import { POLICY_TYPES } from './register.ts';

/** KUMA-REFERENCE §1: type, plural, short name. */
const KUMA = [
  ['MeshHTTPRoute', 'meshhttproutes', 'mhttpr'],
  ['MeshTCPRoute', 'meshtcproutes', 'mtcpr'],
  ['MeshTLS', 'meshtlses', 'mtls'],
  ['MeshLoadBalancingStrategy', 'meshloadbalancingstrategies', 'mlbs'],
  ['MeshPassthrough', 'meshpassthroughs', 'mp'],
  ['MeshAccessLog', 'meshaccesslogs', 'mal'],
  ['MeshTrace', 'meshtraces', 'mtr'],
  ['MeshFaultInjection', 'meshfaultinjections', 'mfi'],
  ['MeshRateLimit', 'meshratelimits', 'mrl'],
  ['MeshTimeout', 'meshtimeouts', 'mt'],
  ['MeshTrafficPermission', 'meshtrafficpermissions', 'mtp'],
  ['MeshHealthCheck', 'meshhealthchecks', 'mhc'],
  ['MeshCircuitBreaker', 'meshcircuitbreakers', 'mcb'],
  ['MeshRetry', 'meshretries', 'mr'],
  ['MeshMetric', 'meshmetrics', 'mm'],
  ['MeshProxyPatch', 'meshproxypatches', 'mpp'],
];

describe('policy type registration', () => {
  const registry = fullRegistry();
  it("registers Kuma's 16 targetRef policies in plugin order, with Kuma's plural, kumactl arguments and KRI short name", () => {
    expect(POLICY_TYPES.map((d) => [d.name, d.plural, d.shortName])).toEqual(KUMA);
    for (const [name, plural, short] of KUMA) {
      const d = registry.get(name!);
      expect(registry.findByPlural(plural!)).toBe(d);
      expect(registry.findByShortName(short!)).toBe(d);
      expect(registry.findByKumactlArg(name!.toLowerCase())).toBe(d);
      expect(registry.findByKumactlArg(plural!)).toBe(d);
      expect(d).toMatchObject({ scope: 'Mesh', isPolicy: true, specLayout: 'nested', columns: [] });
    }
  });
  it('gives a policy its KRI', () => {
    const kri = kriOf({ type: 'MeshTimeout', mesh: 'default', name: 't1', labels: { 'kuma.io/zone': 'zone-1' } } as never, registry.get('MeshTimeout'));
    expect(kri).toBe('kri_mt_default_zone-1__t1_');
  });
});
