import { parseDuration } from '../platform/duration.ts';
import type { ResourceTypeDescriptor } from './descriptor.ts';
import { arrayAt, objectAt, rejectUnknownFields } from './fields.ts';
import { dns1035LabelErrors } from './names.ts';
import type { Resource } from './resource.ts';
import { isObject, type JsonObject, type Violations } from './validation.ts';

const TOP_FIELDS = ['mtls', 'tracing', 'logging', 'metrics', 'networking', 'routing', 'constraints', 'skipCreatingInitialPolicies', 'meshServices'];
const MTLS_BACKEND_TYPES = ['builtin', 'provided', 'vault', 'acmpca', 'certmanager'];

/** Validates `backends[]` (unique non-empty names) and that `selectedField` names one of them. */
function validateBackends(
  section: JsonObject,
  selectedField: string,
  v: Violations,
  allowedTypes: readonly string[] | undefined,
  selectedReason: string,
): void {
  const names = new Set<string>();
  arrayAt(section['backends'], v.field('backends')).forEach((b, i) => {
    const bv = v.field('backends').index(i);
    if (!isObject(b)) {
      bv.add('must be an object');
      return;
    }
    const name = b['name'];
    if (typeof name !== 'string' || name === '') bv.field('name').add('cannot be empty');
    else if (names.has(name)) bv.field('name').add(`"${name}" name is already used for another backend`);
    else names.add(name);
    if (allowedTypes) {
      const type = b['type'];
      if (typeof type !== 'string' || !allowedTypes.includes(type)) {
        bv.field('type').add(`unknown backend type. Available backends: ${allowedTypes.map((t) => `"${t}"`).join(', ')}`);
      }
    }
  });
  const selected = section[selectedField];
  if (selected !== undefined && selected !== '' && !(typeof selected === 'string' && names.has(selected))) {
    v.field(selectedField).add(selectedReason);
  }
}

const BACKEND_FIELDS = ['name', 'type', 'dpCert', 'conf', 'mode', 'rootChain'];
/** A name that keeps `<mesh>.ca-builtin-cert-<backend>` a valid Secret name (DNS-1123 subdomain characters). */
const BACKEND_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function durationAt(value: unknown, v: Violations): void {
  if (value === undefined) return;
  if (typeof value !== 'string') return v.add('must be a duration string, e.g. 24h');
  try {
    if (parseDuration(value) <= 0) v.add('must be positive');
  } catch {
    v.add('has to be a valid format');
  }
}

/** A builtin or provided CA backend: what Kuma's CA managers check before a Mesh is stored. */
function validateCaBackend(b: JsonObject, v: Violations): void {
  rejectUnknownFields(b, BACKEND_FIELDS, v);
  const name = b['name'];
  if (typeof name === 'string' && name !== '' && (!BACKEND_NAME.test(name) || name.length > 200)) {
    v.field('name').add('must consist of lower case alphanumeric characters, "-" or ".", start and end with an alphanumeric character, and be at most 200 characters: it names the CA Secrets');
  }
  if (b['mode'] !== undefined && b['mode'] !== 'STRICT' && b['mode'] !== 'PERMISSIVE') v.field('mode').add('has to be one of STRICT, PERMISSIVE');
  const dpCert = objectAt(b['dpCert'], v.field('dpCert'));
  if (dpCert) {
    rejectUnknownFields(dpCert, ['rotation', 'requestTimeout'], v.field('dpCert'));
    const rotation = objectAt(dpCert['rotation'], v.field('dpCert').field('rotation'));
    if (rotation) {
      rejectUnknownFields(rotation, ['expiration'], v.field('dpCert').field('rotation'));
      durationAt(rotation['expiration'], v.field('dpCert').field('rotation').field('expiration'));
    }
    durationAt(dpCert['requestTimeout'], v.field('dpCert').field('requestTimeout'));
  }
  const cv = v.field('conf');
  const conf = objectAt(b['conf'], cv);
  if (b['type'] === 'builtin' && conf) {
    rejectUnknownFields(conf, ['caCert'], cv);
    const caCert = objectAt(conf['caCert'], cv.field('caCert'));
    if (caCert) {
      rejectUnknownFields(caCert, ['RSAbits', 'expiration'], cv.field('caCert'));
      const bits = caCert['RSAbits'];
      if (bits !== undefined && !(typeof bits === 'number' && Number.isInteger(bits) && bits >= 2048 && bits <= 8192)) {
        cv.field('caCert').field('RSAbits').add('must be an integer between 2048 and 8192');
      }
      durationAt(caCert['expiration'], cv.field('caCert').field('expiration'));
    }
  }
  if (b['type'] === 'provided') {
    if (!conf) return cv.add('has to be defined: the CA certificate and key (cert, key)');
    rejectUnknownFields(conf, ['cert', 'key'], cv);
    for (const field of ['cert', 'key']) {
      const src = objectAt(conf[field], cv.field(field));
      if (!src) cv.field(field).add('has to be defined');
      else if (Object.keys(src).length !== 1 || !['secret', 'inline', 'inlineString'].includes(Object.keys(src)[0]!) || typeof Object.values(src)[0] !== 'string') {
        cv.field(field).add('has to be exactly one of secret, inline, inlineString (a string)');
      }
    }
  }
}

/** The parts of Kuma's mesh_validator.go that hold for a Mesh without a running CA. */
export function validateMesh(spec: Readonly<JsonObject>, v: Violations): void {
  rejectUnknownFields(spec as JsonObject, TOP_FIELDS, v);
  const mtls = objectAt(spec['mtls'], v.field('mtls'));
  if (mtls) {
    if (Array.isArray(mtls['backends']) && mtls['backends'].length > 1) v.field('mtls').field('backends').add('cannot have more than 1 backends');
    validateBackends(mtls, 'enabledBackend', v.field('mtls'), MTLS_BACKEND_TYPES, 'has to be set to one of the backends in the mesh');
    if (Array.isArray(mtls['backends'])) mtls['backends'].forEach((b, i) => isObject(b) && validateCaBackend(b, v.field('mtls').field('backends').index(i)));
  }
  const logging = objectAt(spec['logging'], v.field('logging'));
  if (logging) validateBackends(logging, 'defaultBackend', v.field('logging'), ['tcp', 'file'], 'has to be set to one of the logging backend in mesh');
  const tracing = objectAt(spec['tracing'], v.field('tracing'));
  if (tracing) validateBackends(tracing, 'defaultBackend', v.field('tracing'), ['zipkin', 'datadog'], 'has to be set to one of the tracing backend in mesh');
  const metrics = objectAt(spec['metrics'], v.field('metrics'));
  if (metrics) validateBackends(metrics, 'enabledBackend', v.field('metrics'), ['prometheus'], 'has to be set to one of the backends in the mesh');
  const routing = objectAt(spec['routing'], v.field('routing'));
  if (routing?.['zoneEgress'] === true && !(mtls && typeof mtls['enabledBackend'] === 'string' && mtls['enabledBackend'] !== '')) {
    v.field('mtls').add('has to be set when zoneEgress enabled');
  }
  if (spec['skipCreatingInitialPolicies'] !== undefined) {
    // A list of type names (`MeshRetry`) or `*`: Kuma's []string, so anything else does not decode.
    arrayAt(spec['skipCreatingInitialPolicies'], v.field('skipCreatingInitialPolicies')).forEach((t, i) => {
      if (typeof t !== 'string') v.field('skipCreatingInitialPolicies').index(i).add('must be a string');
    });
  }
}

/** Kuma's MeshResource.Deprecations: a name that is not an RFC 1035 label still works, with a warning. */
function meshDeprecations(input: Readonly<{ name: string }>): string[] {
  const errs = dns1035LabelErrors(input.name);
  if (errs.length === 0) return [];
  return [
    `Invalid Mesh resource name: '${input.name}'. It does not conform to the DNS format (RFC 1035). This is deprecated. Errors: ${errs.join('; ')}`,
  ];
}

function backendSummary(section: unknown, selectedField: string): string {
  if (!isObject(section)) return 'off';
  const selected = section[selectedField];
  if (typeof selected !== 'string' || selected === '') return 'off';
  const backend = (Array.isArray(section['backends']) ? section['backends'] : []).find(
    (b): b is JsonObject => isObject(b) && b['name'] === selected,
  );
  return backend ? `${String(backend['type'])}/${selected}` : 'off';
}

function onOff(r: Resource, path: string[]): string {
  let cur: unknown = r.spec;
  for (const p of path) cur = isObject(cur) ? cur[p] : undefined;
  return cur === true ? 'on' : 'off';
}

export const MeshType: ResourceTypeDescriptor = {
  name: 'Mesh',
  plural: 'meshes',
  scope: 'Global',
  kumactlArg: 'mesh',
  kumactlListArg: 'meshes',
  shortName: 'm',
  isPolicy: false,
  specLayout: 'inline',
  validate: validateMesh,
  deprecations: meshDeprecations,
  kubernetesScope: 'Cluster',
  columns: [
    { header: 'mTLS', value: (r) => backendSummary(r.spec['mtls'], 'enabledBackend') },
    { header: 'LOCALITY', value: (r) => onOff(r, ['routing', 'localityAwareLoadBalancing']) },
    { header: 'ZONEEGRESS', value: (r) => onOff(r, ['routing', 'zoneEgress']) },
  ],
};
