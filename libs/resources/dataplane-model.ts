import type { Resource } from './resource.ts';
import { PROTOCOL_TAG, PROTOCOLS, SERVICE_TAG, type Protocol } from './tags.ts';
import { isObject, type JsonObject } from './validation.ts';

/**
 * A Dataplane's spec as typed data, with Kuma's defaults applied. Parsed once per stored
 * resource version (see `dataplaneModel`) and shared by the mesh view, the translator and the
 * policy matcher, so nothing else navigates the untyped spec. It assumes a validated spec:
 * fields of the wrong type read as absent instead of throwing.
 */
export interface DataplaneModel {
  readonly mesh: string;
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `networking.address`. */
  readonly address: string;
  /** `advertisedAddress`, else `address`: where other proxies reach this one. */
  readonly advertisedAddress: string;
  readonly proxyType: 'Sidecar' | 'Gateway';
  /** A proxyless gRPC application (label `kuma.io/proxyless: "true"`, which `kuma-dp run --proxyless` sets): gRPC's shapes, not Envoy's. */
  readonly proxyless: boolean;
  readonly inbounds: readonly InboundModel[];
  readonly outbounds: readonly OutboundModel[];
  readonly transparentProxying?: TransparentProxyingModel;
  /** `networking.admin.port`, 9901 by default. */
  readonly adminPort: number;
  /** `networking.gateway` (delegated or builtin gateway). */
  readonly gateway?: { readonly type: 'DELEGATED' | 'BUILTIN'; readonly tags: Readonly<Record<string, string>> };
}

/**
 * Kuma's inbound states: `Ready` serves and takes traffic; `NotReady` serves but takes no new
 * traffic (not an endpoint of its service; `health.ready: false` means this); `Ignored` is not
 * configured at all.
 */
export type InboundState = 'Ready' | 'NotReady' | 'Ignored';

export interface InboundModel {
  /** Position in `networking.inbound[]`. */
  readonly index: number;
  readonly name?: string;
  /** The inbound's own address, else the Dataplane's. */
  readonly address: string;
  /** Where other proxies reach this inbound: its own address, else the Dataplane's advertised one. */
  readonly advertisedAddress: string;
  readonly port: number;
  /** The application's port behind the inbound (`servicePort`, else `port`). */
  readonly servicePort: number;
  /** The application's address (`serviceAddress`, else 127.0.0.1). */
  readonly serviceAddress: string;
  readonly tags: Readonly<Record<string, string>>;
  /** `kuma.io/service` ('' for an inbound without one, which validation refuses). */
  readonly service: string;
  /** `kuma.io/protocol` as written (tcp when absent); see `protocolOf` for a known protocol. */
  readonly protocol: string;
  readonly state: InboundState;
}

export interface OutboundModel {
  readonly index: number;
  /** 127.0.0.1 when not given. */
  readonly address: string;
  readonly port: number;
  /**
   * The destination service: `tags["kuma.io/service"]`, the legacy `service` field, or the name
   * of a `backendRef` to a MeshService (whose name is the service's name on Universal).
   */
  readonly service: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly backendRef?: { readonly kind: string; readonly name?: string; readonly labels?: Readonly<Record<string, string>>; readonly port?: number };
}

export interface TransparentProxyingModel {
  readonly redirectPortInbound: number;
  readonly redirectPortOutbound: number;
  /** Only these services are reachable (empty: all of the mesh). */
  readonly reachableServices: readonly string[];
}

const DEFAULT_ADMIN_PORT = 9901;
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const nonEmpty = (v: unknown, fallback: string): string => (typeof v === 'string' && v !== '' ? v : fallback);
const int = (v: unknown, fallback: number): number => (typeof v === 'number' && Number.isInteger(v) && v !== 0 ? v : fallback);

function stringMap(v: unknown): Record<string, string> {
  if (!isObject(v)) return {};
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

function stateOf(inbound: JsonObject): InboundState {
  const s = inbound['state'];
  if (s === 'Ignored' || s === 'NotReady' || s === 'Ready') return s;
  return isObject(inbound['health']) && inbound['health']['ready'] === false ? 'NotReady' : 'Ready';
}

function parseInbound(raw: JsonObject, index: number, dpAddress: string, dpAdvertised: string): InboundModel {
  const tags = stringMap(raw['tags']);
  const port = int(raw['port'], 0);
  const own = str(raw['address']);
  return {
    index,
    ...(typeof raw['name'] === 'string' && raw['name'] !== '' ? { name: raw['name'] } : {}),
    address: own || dpAddress,
    advertisedAddress: own || dpAdvertised,
    port,
    servicePort: int(raw['servicePort'], port),
    serviceAddress: nonEmpty(raw['serviceAddress'], '127.0.0.1'),
    tags,
    service: tags[SERVICE_TAG] ?? '',
    protocol: tags[PROTOCOL_TAG] ?? 'tcp',
    state: stateOf(raw),
  };
}

function parseOutbound(raw: JsonObject, index: number): OutboundModel | undefined {
  const tags = stringMap(raw['tags']);
  const ref = isObject(raw['backendRef']) ? raw['backendRef'] : undefined;
  const backendRef = ref
    ? {
        kind: str(ref['kind']),
        ...(typeof ref['name'] === 'string' ? { name: ref['name'] } : {}),
        ...(isObject(ref['labels']) ? { labels: stringMap(ref['labels']) } : {}),
        ...(typeof ref['port'] === 'number' ? { port: ref['port'] } : {}),
      }
    : undefined;
  const service = tags[SERVICE_TAG] ?? (str(raw['service']) || (backendRef?.kind === 'MeshService' ? (backendRef.name ?? '') : ''));
  if (service === '') return undefined;
  return { index, address: nonEmpty(raw['address'], '127.0.0.1'), port: int(raw['port'], 0), service, tags, ...(backendRef ? { backendRef } : {}) };
}

export const PROXYLESS_LABEL = 'kuma.io/proxyless';

/** Parses a Dataplane's spec. Prefer `dataplaneModel`, which parses each resource version once. */
export function parseDataplane(mesh: string, name: string, labels: Readonly<Record<string, string>>, spec: Readonly<JsonObject>): DataplaneModel {
  const net = isObject(spec['networking']) ? spec['networking'] : {};
  const address = str(net['address']);
  const advertisedAddress = nonEmpty(net['advertisedAddress'], address);
  const list = (v: unknown): JsonObject[] => (Array.isArray(v) ? v : []).filter(isObject);
  const inbounds = list(net['inbound']).map((raw, i) => parseInbound(raw, i, address, advertisedAddress));
  const outbounds = list(net['outbound']).flatMap((raw, i) => parseOutbound(raw, i) ?? []);
  const tp = isObject(net['transparentProxying']) ? net['transparentProxying'] : undefined;
  const gw = isObject(net['gateway']) ? net['gateway'] : undefined;
  const admin = isObject(net['admin']) ? net['admin'] : {};
  return {
    mesh,
    name,
    labels,
    address,
    advertisedAddress,
    proxyType: gw ? 'Gateway' : 'Sidecar',
    proxyless: labels[PROXYLESS_LABEL] === 'true',
    inbounds,
    outbounds,
    ...(tp
      ? {
          transparentProxying: {
            redirectPortInbound: int(tp['redirectPortInbound'], 15006),
            redirectPortOutbound: int(tp['redirectPortOutbound'], 15001),
            reachableServices: (Array.isArray(tp['reachableServices']) ? tp['reachableServices'] : []).filter((s): s is string => typeof s === 'string' && s !== ''),
          },
        }
      : {}),
    adminPort: int(admin['port'], DEFAULT_ADMIN_PORT),
    ...(gw ? { gateway: { type: gw['type'] === 'BUILTIN' ? 'BUILTIN' : 'DELEGATED', tags: stringMap(gw['tags']) } } : {}),
  };
}

const parsed = new WeakMap<Resource, DataplaneModel>();

/** The model of a stored Dataplane, parsed once per resource object (stored resources are immutable). */
export function dataplaneModel(r: Resource): DataplaneModel {
  let m = parsed.get(r);
  if (!m) {
    m = parseDataplane(r.meta.mesh ?? '', r.meta.name, r.meta.labels, r.spec);
    parsed.set(r, m);
  }
  return m;
}

/** An inbound's protocol if Kuma knows it, else tcp. */
export function protocolOf(p: string): Protocol {
  return (PROTOCOLS as readonly string[]).includes(p) ? (p as Protocol) : 'tcp';
}
