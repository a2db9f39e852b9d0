import type { JsonObject } from '../../resources/validation.ts';
import type { FailoverRule } from './conf.ts';

/** A failover group that applies to the proxy's zone (Kuma's CrossZoneLbGroup): its priority is its rule's position + 1. */
export interface CrossZoneGroup {
  readonly type: 'None' | 'Only' | 'Any' | 'AnyExcept';
  readonly zones: readonly string[];
  readonly priority: number;
}

/** Kuma's getCrossZoneLbGroups: the failover rules whose `from` includes the proxy's zone (or is unset). */
export function crossZoneGroups(failover: readonly FailoverRule[] | undefined, localZone: string): CrossZoneGroup[] {
  return (failover ?? []).flatMap((rule, i) =>
    rule.from && !rule.from.zones.includes(localZone) ? [] : [{ type: rule.to.type, zones: [...(rule.to.zones ?? [])], priority: i + 1 }],
  );
}

/** Kuma's configureCrossZoneEndpointLocality: the priority of a remote zone's endpoints, or undefined (no rule admits it: dropped). */
function crossZonePriority(groups: readonly CrossZoneGroup[], zone: string): number | undefined {
  for (const g of groups) {
    if (g.type === 'Any') return g.priority;
    if (g.type === 'AnyExcept' && !g.zones.includes(zone)) return g.priority;
    if (g.type === 'Only' && g.zones.includes(zone)) return g.priority;
  }
  return undefined;
}

/**
 * Kuma's locality awareness. Without cross-zone failover rules the localities of other zones go
 * to priority 1, so Envoy (and gRPC) use them only when the proxy's own zone has no healthy
 * endpoint left. With failover rules, each other zone gets the priority of the first rule that
 * admits it, and zones no rule admits are left out. Endpoints without a zone keep priority 0,
 * as in Kuma (they have no locality there). Priorities are then renumbered 0, 1, 2... in the
 * same order (no gap, which gRPC rejects; Envoy routes identically).
 */
export function applyLocalityAwareness(cla: JsonObject, localZone: string, failover?: readonly FailoverRule[]): void {
  const endpoints = (cla['endpoints'] as JsonObject[] | undefined) ?? [];
  const zoneOf = (e: JsonObject) => String((e['locality'] as JsonObject | undefined)?.['zone'] ?? '');
  const groups = failover && failover.length > 0 ? crossZoneGroups(failover, localZone) : undefined;
  const kept: { e: JsonObject; priority: number }[] = [];
  for (const e of endpoints) {
    const zone = zoneOf(e);
    const priority = zone === '' || zone === localZone ? 0 : groups ? crossZonePriority(groups, zone) : 1;
    if (priority !== undefined) kept.push({ e, priority });
  }
  const ranks = [...new Set(kept.map((k) => k.priority))].sort((a, b) => a - b);
  for (const k of kept) {
    const p = ranks.indexOf(k.priority);
    if (p === 0) delete k.e['priority'];
    else k.e['priority'] = p;
  }
  cla['endpoints'] = kept.map((k) => k.e);
}

/** Kuma's overprovisioningFactor for crossZone.failoverThreshold (percent): `uint32(100/p) * 100`; 200 when unusable. */
export function overprovisioningFactor(percentage: number | string): number {
  const p = Number(percentage);
  if (!Number.isFinite(p) || p <= 0) return 200;
  return Math.trunc(100 / p) * 100;
}
