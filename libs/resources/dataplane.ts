import type { ResourceTypeDescriptor } from './descriptor.ts';
import { arrayAt, isDNSName, isIP, isPort, objectAt, rejectUnknownFields } from './fields.ts';
import type { Resource } from './resource.ts';
import { PROTOCOL_TAG, SERVICE_TAG, validateTags } from './tags.ts';
import { isObject, type JsonObject, type Violations } from './validation.ts';

const TOP_FIELDS = ['networking', 'metrics', 'probes'];
const NETWORKING_FIELDS = ['address', 'advertisedAddress', 'inbound', 'outbound', 'gateway', 'transparentProxying', 'admin'];
const INBOUND_FIELDS = ['port', 'servicePort', 'serviceAddress', 'address', 'tags', 'health', 'serviceProbe', 'state', 'name'];
const OUTBOUND_FIELDS = ['port', 'address', 'tags', 'service', 'backendRef'];
const TP_FIELDS = ['redirectPortInbound', 'redirectPortOutbound', 'redirectPortInboundV6', 'directAccessServices', 'reachableServices', 'ipFamilyMode', 'reachableBackends'];
const BACKEND_KINDS = ['MeshExternalService', 'MeshMultiZoneService', 'MeshService'];

/** Kuma's ValidatePort. */
function validatePort(value: unknown, v: Violations): void {
  if (!isPort(value)) v.add('port must be in the range [1, 65535]');
}

function validateInbound(inbound: JsonObject, dpAddress: unknown, v: Violations): void {
  rejectUnknownFields(inbound, INBOUND_FIELDS, v);
  validatePort(inbound['port'], v.field('port'));
  const servicePort = inbound['servicePort'] ?? 0;
  if (servicePort !== 0) validatePort(servicePort, v.field('servicePort'));
  const sameEndpoint = servicePort === 0 || servicePort === inbound['port'];
  const serviceAddress = inbound['serviceAddress'];
  if (serviceAddress !== undefined && serviceAddress !== '') {
    if (!(typeof serviceAddress === 'string' && isIP(serviceAddress))) {
      v.field('serviceAddress').add('serviceAddress has to be valid IP address');
    } else if (serviceAddress === dpAddress && sameEndpoint) {
      v.field('serviceAddress').add('serviceAddress and servicePort has to differ from address and port');
    }
  }
  const address = inbound['address'];
  if (address !== undefined && address !== '') {
    if (!(typeof address === 'string' && isIP(address))) v.field('address').add('address has to be valid IP address');
    else if (address === serviceAddress && sameEndpoint) {
      v.field('serviceAddress').add('serviceAddress and servicePort has to differ from address and port');
    }
  }
  const tags = inbound['tags'] ?? {};
  validateTags(tags, v.field('tags'), { protocol: true });
  // Kuma 2.14 (kumahq/kuma#15458, crud table put_dataplanes_09): an inbound without tags is valid,
  // it is identified by the Dataplane's labels; one with tags still needs kuma.io/service.
  const tagless = isObject(tags) && Object.keys(tags).length === 0;
  if (!tagless && !(isObject(tags) && SERVICE_TAG in tags)) v.field('tags').key(SERVICE_TAG).add('tag has to exist');
}

function validateOutbound(outbound: JsonObject, v: Violations): void {
  rejectUnknownFields(outbound, OUTBOUND_FIELDS, v);
  validatePort(outbound['port'], v.field('port'));
  const a = outbound['address'];
  if (a !== undefined && a !== '' && !(typeof a === 'string' && isIP(a))) v.field('address').add('address has to be valid IP address');
  const tags = outbound['tags'];
  const hasTags = isObject(tags) && Object.keys(tags).length > 0;
  const service = outbound['service'];
  if (outbound['backendRef'] !== undefined) {
    const rv = v.field('backendRef');
    const ref = objectAt(outbound['backendRef'], rv);
    if (ref) {
      if (!BACKEND_KINDS.includes(String(ref['kind']))) {
        rv.field('kind').add(`invalid value. Available values are: ${BACKEND_KINDS.join(',')}`);
      }
      const hasLabels = isObject(ref['labels']) && Object.keys(ref['labels']).length > 0;
      if ((typeof ref['name'] !== 'string' || ref['name'] === '') && !hasLabels) {
        rv.add("either 'name' or 'labels' should be specified");
      }
      if (ref['kind'] !== 'MeshExternalService') validatePort(ref['port'], rv.field('port'));
    }
    if (hasTags || (typeof service === 'string' && service !== '')) rv.add('both backendRef and tags/service cannot be defined');
  } else if (!hasTags) {
    if (typeof service !== 'string' || service === '') v.field('tags').add(`mandatory tag "${SERVICE_TAG}" is missing`);
  } else {
    validateTags(tags, v.field('tags'), { requireService: true });
  }
}

function validateGateway(gateway: JsonObject, v: Violations): void {
  const tags = gateway['tags'] ?? {};
  const tv = v.field('tags');
  if (isObject(tags) && typeof tags[PROTOCOL_TAG] === 'string' && tags[PROTOCOL_TAG] !== 'tcp') {
    tv.key(PROTOCOL_TAG).add(`other values than tcp are not allowed, provided value "${tags[PROTOCOL_TAG]}"`);
  }
  validateTags(tags, tv, { requireService: true });
  const type = gateway['type'];
  if (type !== undefined && type !== 'DELEGATED' && type !== 'BUILTIN') v.field('type').add('must be one of [DELEGATED, BUILTIN]');
}

function validateAddress(address: unknown, v: Violations): void {
  if (address === undefined || address === '') v.add("address can't be empty");
  else if (address === '0.0.0.0' || address === '::') v.add('must not be 0.0.0.0 or ::');
  else if (!(typeof address === 'string' && (isIP(address) || isDNSName(address)))) {
    v.add('address has to be valid IP address or domain name');
  }
}

/** `ip:port` an inbound listens on: its own address, or the Dataplane's. */
function inboundEndpoint(inbound: JsonObject, dpAddress: unknown): string {
  const a = typeof inbound['address'] === 'string' && inbound['address'] !== '' ? inbound['address'] : String(dpAddress);
  return `${a}:${String(inbound['port'])}`;
}

/**
 * Kuma's dataplane_validator.go, in Kuma's order and with Kuma's messages, plus one rule Kuma
 * lacks: two inbounds on the same ip:port would produce colliding Envoy listeners, so they are
 * rejected here rather than NACKed by the proxy later.
 */
export function validateDataplane(spec: Readonly<JsonObject>, v: Violations): void {
  rejectUnknownFields(spec as JsonObject, TOP_FIELDS, v);
  const nv = v.field('networking');
  const net = objectAt(spec['networking'], nv);
  if (!net) {
    if (spec['networking'] === undefined || spec['networking'] === null) nv.add('must be defined');
    return;
  }
  rejectUnknownFields(net, NETWORKING_FIELDS, nv);
  const address = net['address'];
  const inbounds = arrayAt(net['inbound'], nv.field('inbound'));
  const outbounds = arrayAt(net['outbound'], nv.field('outbound'));

  const admin = objectAt(net['admin'], nv.field('admin'));
  if (admin) {
    validatePort(admin['port'], nv.field('admin').field('port'));
    if (inbounds.some((i) => isObject(i) && i['port'] === admin['port'])) nv.field('admin').field('port').add('must differ from inbound');
    if (outbounds.some((o) => isObject(o) && o['port'] === admin['port'])) nv.field('admin').field('port').add('must differ from outbound');
  }

  const gateway = objectAt(net['gateway'], nv.field('gateway'));
  if (gateway) {
    const kind = gateway['type'] === 'BUILTIN' ? 'builtin' : 'delegated';
    if (inbounds.length > 0) nv.field('inbound').add(`inbound cannot be defined for ${kind} gateways`);
    if (kind === 'builtin' && outbounds.length > 0) nv.field('outbound').add('outbound cannot be defined for builtin gateways');
    validateGateway(gateway, nv.field('gateway'));
  }
  // No inbound and no gateway is an outbound-only proxy, valid since Kuma 2.14 (kumahq/kuma#15685).

  validateAddress(address, nv.field('address'));
  const adv = net['advertisedAddress'];
  if (adv !== undefined && adv !== '' && !(typeof adv === 'string' && (isIP(adv) || isDNSName(adv)))) {
    nv.field('advertisedAddress').add('address has to be valid IP address or domain name');
  }

  const seen = new Map<string, number>();
  inbounds.forEach((raw, i) => {
    const iv = nv.field('inbound').index(i);
    if (!isObject(raw)) {
      iv.add('must be an object');
      return;
    }
    validateInbound(raw, address, iv);
    if (isPort(raw['port'])) {
      const endpoint = inboundEndpoint(raw, address);
      const first = seen.get(endpoint);
      if (first !== undefined) iv.field('port').add(`duplicate inbound: ${endpoint} is already used by networking.inbound[${first}]`);
      else seen.set(endpoint, i);
    }
  });

  outbounds.forEach((raw, i) => {
    const ov = nv.field('outbound').index(i);
    if (!isObject(raw)) ov.add('must be an object');
    else validateOutbound(raw, ov);
  });

  // Kuma reports these under its (misspelled) path `networking.transparentProxing`.
  const tpV = nv.field('transparentProxing');
  const tp = objectAt(net['transparentProxying'], tpV);
  if (tp) {
    rejectUnknownFields(tp, TP_FIELDS, tpV);
    for (const f of ['redirectPortInbound', 'redirectPortOutbound', 'redirectPortInboundV6'] as const) {
      if (tp[f] !== undefined && tp[f] !== 0) validatePort(tp[f], tpV.field(f));
    }
    for (const f of ['directAccessServices', 'reachableServices'] as const) {
      arrayAt(tp[f], tpV.field(f)).forEach((s, i) => {
        if (typeof s !== 'string' || s === '') tpV.field(f).index(i).add('cannot be empty');
      });
    }
  }
}

/** Inbound (or gateway) tags merged per key, Kuma's TagSet: `kuma.io/service=a,b version=v1`. */
export function dataplaneTags(r: Resource): string {
  const net = r.spec['networking'];
  const merged = new Map<string, Set<string>>();
  if (isObject(net)) {
    const sources = [...(Array.isArray(net['inbound']) ? net['inbound'] : []), net['gateway']];
    for (const s of sources) {
      if (isObject(s) && isObject(s['tags'])) {
        for (const [k, val] of Object.entries(s['tags'])) {
          const set = merged.get(k) ?? new Set<string>();
          set.add(String(val));
          merged.set(k, set);
        }
      }
    }
  }
  return [...merged.keys()]
    .sort()
    .map((k) => `${k}=${[...merged.get(k)!].sort().join(',')}`)
    .join(' ');
}

function dataplaneAddress(r: Resource): string {
  const net = r.spec['networking'];
  if (!isObject(net)) return '';
  const adv = net['advertisedAddress'];
  return String(typeof adv === 'string' && adv !== '' ? adv : (net['address'] ?? ''));
}

export const DataplaneType: ResourceTypeDescriptor = {
  name: 'Dataplane',
  plural: 'dataplanes',
  scope: 'Mesh',
  kumactlArg: 'dataplane',
  kumactlListArg: 'dataplanes',
  shortName: 'dp',
  isPolicy: false,
  specLayout: 'inline',
  validate: validateDataplane,
  kubernetesScope: 'Namespaced',
  columns: [
    { header: 'TAGS', value: dataplaneTags },
    { header: 'ADDRESS', value: dataplaneAddress },
  ],
};
