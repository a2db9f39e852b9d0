import pino from 'pino';
import { Registry } from 'prom-client';
import { policyPlugins } from '../../libs/policies/plugins.ts';
import { POLICY_TYPES } from '../../libs/policies/register.ts';
import { projectorEvent } from '../../libs/testkit/projector-events.ts';
import type { OutboundTrim } from '../../libs/xds/generate/context.ts';
import { SnapshotCache } from '../../libs/xds/snapshot-cache.ts';
import { XdsMetrics } from '../../libs/xds/metrics.ts';
import { SnapshotGenerator } from './generator.ts';

/**
 * A projector in process, as `kuma-cp run` has it: a SnapshotGenerator with every policy plugin
 * feeding a SnapshotCache (a proxy is generated when first watched), no debounce; `apply` feeds
 * it one change (see projectorEvent).
 */
export function policyProjector(opts: { readonly outboundTrim?: OutboundTrim } = {}) {
  const cache = new SnapshotCache({ onFirstWatch: (key) => gen.onWatch(key) });
  const gen = new SnapshotGenerator(cache, new XdsMetrics(new Registry()), pino({ level: 'silent' }), {
    debounceMs: 0,
    plugins: policyPlugins(),
    policyTypes: new Set(POLICY_TYPES.map((d) => d.name)),
    ...opts,
  });
  const apply = (...args: Parameters<typeof projectorEvent>) => gen.onEvent(...projectorEvent(...args));
  return { cache, gen, apply };
}
