import type { JsonObject } from '../../resources/validation.ts';

/**
 * Kuma's locality awareness within a zone: the localities of other zones go to priority 1, so
 * Envoy (and gRPC) use them only when the proxy's own zone has no healthy endpoint left.
 * Endpoints without a zone keep priority 0, as in Kuma (they have no locality there). If no
 * locality is left at priority 0 (no endpoint in the proxy's zone), all stay at priority 0:
 * the same traffic for Envoy, and no gap in priorities, which gRPC rejects.
 */
export function prioritiseLocalZone(cla: JsonObject, localZone: string): void {
  const endpoints = (cla['endpoints'] as JsonObject[] | undefined) ?? [];
  const zoneOf = (e: JsonObject) => String((e['locality'] as JsonObject | undefined)?.['zone'] ?? '');
  const remote = (e: JsonObject) => zoneOf(e) !== '' && zoneOf(e) !== localZone;
  if (!endpoints.some((e) => !remote(e)) || !endpoints.some(remote)) return;
  for (const e of endpoints) if (remote(e)) e['priority'] = 1;
}
