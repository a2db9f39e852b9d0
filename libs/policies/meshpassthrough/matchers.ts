import { isIPv6 } from 'node:net';
import type { MeshPassthroughSpec } from './api.ts';

type Match = NonNullable<MeshPassthroughSpec['default']['appendMatch']>[number];

/** Kuma's match types, in its numbering (the order sorts rely on). */
export const MatchType = { WildcardDomain: 1, Domain: 2, CIDR: 3, CIDRV6: 4, IP: 5, IPV6: 6 } as const;
export type MatchType = (typeof MatchType)[keyof typeof MatchType];

export type Protocol = 'tcp' | 'tls' | 'http' | 'http2' | 'grpc';

export interface Route {
  readonly value: string;
  readonly type: MatchType;
}

/** One filter chain of the passthrough listener (Kuma's FilterChainMatch). */
export interface ChainMatch {
  readonly protocol: Protocol;
  readonly port: number;
  readonly type: MatchType;
  /** The IP, CIDR or domain of a chain of its own; empty for an HTTP chain of domains. */
  readonly value: string;
  /** The domains an HTTP chain routes by Host. */
  readonly routes: readonly Route[];
}

const PROTOCOL_ORDER: Readonly<Record<Protocol, number>> = { tls: 0, tcp: 1, http: 2, http2: 2, grpc: 2 };
const isHttp = (p: Protocol) => p === 'http' || p === 'http2' || p === 'grpc';

function typeOf(m: Match): MatchType {
  if (m.type === 'Domain') return m.value.startsWith('*') ? MatchType.WildcardDomain : MatchType.Domain;
  if (m.type === 'IP') return isIPv6(m.value) ? MatchType.IPV6 : MatchType.IP;
  return isIPv6(m.value.split('/')[0] ?? '') ? MatchType.CIDRV6 : MatchType.CIDR;
}

/** Kuma's sortDomains: more labels first, then by name. */
const domainOrder = (a: string, b: string): number => {
  const la = a.split('.').length;
  const lb = b.split('.').length;
  return la !== lb ? lb - la : a < b ? -1 : a > b ? 1 : 0;
};

export const prefixLen = (cidr: string): number => Number(cidr.split('/')[1] ?? 0);

/**
 * Kuma's GetOrderedMatchers: HTTP-family matches on domains share one chain per protocol and
 * port (routing by Host), every other match is a chain of its own; chains ordered TLS, TCP,
 * HTTP, then by match type (IPs first), port (higher first), domains (more labels first) and
 * CIDR prefix (longer first). Kuma leaves remaining ties to Go's map order; here they go by value.
 * Returns the conflicting ports when one port mixes http, http2 and grpc (Kuma's error).
 */
export function orderedMatchers(matches: readonly Match[]): { chains: ChainMatch[]; conflicts: number[] } {
  const byKey = new Map<string, { protocol: Protocol; port: number; type: MatchType; value: string; routes: Map<string, Route> }>();
  const portProtocols = new Map<number, Set<Protocol>>();
  for (const m of matches) {
    const protocol = (m.protocol ?? 'tcp') as Protocol;
    const port = m.port ?? 0;
    const type = typeOf(m);
    (portProtocols.get(port) ?? portProtocols.set(port, new Set()).get(port)!).add(protocol);
    const domains = isHttp(protocol) && (type === MatchType.Domain || type === MatchType.WildcardDomain);
    const value = domains ? '' : m.value;
    // Exact and wildcard domains of a protocol and port share one chain: two chains with the
    // same filter_chain_match (Kuma keys them apart by match type) are rejected by Envoy.
    const chainType = domains ? MatchType.Domain : type;
    const key = `${protocol}\u0000${port}\u0000${chainType}\u0000${value}`;
    let chain = byKey.get(key);
    if (!chain) byKey.set(key, (chain = { protocol, port, type: chainType, value, routes: new Map() }));
    if (domains) chain.routes.set(`${type}\u0000${m.value}`, { value: m.value, type });
  }
  const conflicts = [...portProtocols].filter(([, ps]) => ['http', 'http2', 'grpc'].filter((p) => ps.has(p as Protocol)).length > 1).map(([port]) => port);
  const chains: ChainMatch[] = [...byKey.values()].map((c) => ({
    protocol: c.protocol,
    port: c.port,
    type: c.type,
    value: c.value,
    routes: [...c.routes.values()].sort((a, b) => (a.type !== b.type ? a.type - b.type : domainOrder(a.value, b.value))),
  }));
  chains.sort((a, b) => {
    if (PROTOCOL_ORDER[a.protocol] !== PROTOCOL_ORDER[b.protocol]) return PROTOCOL_ORDER[a.protocol] - PROTOCOL_ORDER[b.protocol];
    if (a.type !== b.type) return b.type - a.type;
    if (a.port !== b.port) return b.port - a.port;
    if (a.type === MatchType.Domain || a.type === MatchType.WildcardDomain) return domainOrder(a.value, b.value);
    if ((a.type === MatchType.CIDR || a.type === MatchType.CIDRV6) && prefixLen(a.value) !== prefixLen(b.value)) return prefixLen(b.value) - prefixLen(a.value);
    return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  });
  return { chains, conflicts };
}
