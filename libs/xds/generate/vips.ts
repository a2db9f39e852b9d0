import { createHash } from 'node:crypto';

const BASE = 0xf0000000; // 240.0.0.0/4, Kuma's default DNS CIDR
const SIZE = 1 << 28;

/**
 * Virtual IPs for transparent-proxy outbounds, derived from service names rather than stored,
 * so every replica computes the same addresses. Collisions (rare in 2^28 addresses) are
 * resolved by probing in name order, which keeps the result independent of input order.
 */
export function allocateVips(mesh: string, services: readonly string[]): ReadonlyMap<string, string> {
  const key = services.join('\u0000');
  const hit = lastByMesh.get(mesh);
  if (hit?.key === key) return hit.vips;
  const vips = allocate(mesh, services);
  lastByMesh.set(mesh, { key, vips });
  return vips;
}

/** The last allocation per mesh: the service set rarely changes, proxies ask often. */
const lastByMesh = new Map<string, { key: string; vips: ReadonlyMap<string, string> }>();

function allocate(mesh: string, services: readonly string[]): Map<string, string> {
  const used = new Set<number>();
  const out = new Map<string, string>();
  for (const svc of [...services].sort()) {
    let n = createHash('sha256').update(`${mesh}/${svc}`).digest().readUInt32BE(0) % SIZE;
    while (used.has(n) || n === 0 || n === SIZE - 1) n = (n + 1) % SIZE;
    used.add(n);
    const ip = BASE + n;
    out.set(svc, [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.'));
  }
  return out;
}
