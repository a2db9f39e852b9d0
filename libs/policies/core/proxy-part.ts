import type { Draft, Part } from '../../xds/generate/part.ts';

/**
 * A part of its own for resources a plugin adds for the proxy as a whole (collector clusters,
 * MeshMetric's listeners, MeshProxyPatch's additions), added through `TranslationPlugin.parts`.
 * No other plugin configures its kind, so what other plugins do to the parts they know (timeouts
 * and circuit breakers on an inbound's clusters) never reaches these resources. Its inputs are
 * the drafts themselves, so it is shared by every proxy that adds the same.
 */
export function proxyPart(kind: string, drafts: readonly Draft[]): Part {
  return {
    kind,
    origin: { kind: 'proxy', aspect: 'admin' },
    inputs: drafts.map((d) => [d.typeUrl, d.name, d.body]),
    build: () => drafts.map((d) => ({ ...d, body: structuredClone(d.body) })),
  };
}
