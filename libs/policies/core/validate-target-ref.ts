import { isObject, type JsonObject, type Violations } from '../../resources/validation.ts';
import { MUST_BE_DEFINED, MUST_BE_SET, MUST_NOT_BE_SET } from './messages.ts';
import { isTargetRefKind, type TargetRef, type TargetRefKind } from './target-ref.ts';

/** The fields Kuma's `common_api.TargetRef` decodes (`mesh` is deprecated but still decoded). */
const TARGET_REF_FIELDS = ['kind', 'name', 'namespace', 'sectionName', 'labels', 'tags', 'proxyTypes', 'mesh'];
const PROXY_TYPES = ['Sidecar', 'Gateway'];

export interface TargetRefOptions {
  readonly supportedKinds: readonly TargetRefKind[];
  /** Replaces `value is not supported` when the kind is not among them. */
  readonly supportedKindsError?: string;
  /** MeshGateway `tags` (listener tags) are accepted. */
  readonly gatewayListenerTagsAllowed?: boolean;
  /** The policy configures inbound traffic (has from/rules): `Dataplane` may name a `sectionName`. */
  readonly isInboundPolicy?: boolean;
  /** Names accepted even though they break the naming rule (`kuma.io/unresolved-backend`). */
  readonly allowedInvalidNames?: readonly string[];
}

const NAME_CHARACTERS = /^[0-9a-z.\-_]*$/;
const TAG_NAME = /^[a-zA-Z0-9.\-_:/]*$/;
const TAG_VALUE = /^[a-zA-Z0-9.\-_:]*$/;
const SELECTOR_VALUE = /^([a-zA-Z0-9.\-_:/]*|\*)$/;

function validateTags(tags: Readonly<Record<string, string>>, v: Violations, selector: boolean): void {
  for (const key of Object.keys(tags).sort()) {
    if (key === '') v.add('tag name must be non-empty');
    if (!TAG_NAME.test(key)) v.key(key).add('tag name must consist of alphanumeric characters, dots, dashes, slashes and underscores');
    const value = tags[key]!;
    if (value === '') v.key(key).add('tag value must be non-empty');
    if (selector) {
      if (!SELECTOR_VALUE.test(value)) v.key(key).add('tag value must consist of alphanumeric characters, dots, dashes, slashes and underscores or be "*"');
    } else if (!TAG_VALUE.test(value)) v.key(key).add('tag value must consist of alphanumeric characters, dots, dashes and underscores');
  }
}

/**
 * Reads a targetRef from JSON, reporting what Kuma's strict decoder would reject (unknown
 * fields, wrong types). Returns undefined when it is not an object.
 */
export function readTargetRef(value: unknown, v: Violations): (TargetRef & { readonly mesh?: string }) | undefined {
  if (!isObject(value)) {
    v.add('must be an object');
    return undefined;
  }
  let ok = true;
  for (const k of Object.keys(value)) {
    if (!TARGET_REF_FIELDS.includes(k)) {
      v.field(k).add('unknown field');
      ok = false;
    }
  }
  for (const k of ['kind', 'name', 'namespace', 'sectionName', 'mesh']) {
    if (value[k] !== undefined && typeof value[k] !== 'string') {
      v.field(k).add('must be a string');
      ok = false;
    }
  }
  for (const k of ['labels', 'tags']) {
    const m = value[k];
    if (m === undefined) continue;
    if (!isObject(m) || Object.values(m).some((x) => typeof x !== 'string')) {
      v.field(k).add('must be a map of strings');
      ok = false;
    }
  }
  const pt = value['proxyTypes'];
  if (pt !== undefined) {
    if (!Array.isArray(pt)) {
      v.field('proxyTypes').add('must be an array');
      ok = false;
    } else {
      pt.forEach((p, i) => {
        if (typeof p !== 'string' || !PROXY_TYPES.includes(p)) {
          v.field('proxyTypes').index(i).add(`must be one of: ${PROXY_TYPES.join(', ')}`);
          ok = false;
        }
      });
    }
  }
  return ok ? (value as JsonObject as unknown as TargetRef & { mesh?: string }) : undefined;
}

const isSet = (x: string | Readonly<Record<string, string>> | readonly unknown[] | undefined): boolean =>
  x === undefined ? false : typeof x === 'string' ? x !== '' : Array.isArray(x) ? x.length > 0 : Object.keys(x).length > 0;

/**
 * Kuma's ValidateTargetRef (pkg/core/resources/apis/mesh/validators.go): the kind must be one of
 * the section's supported kinds, then per-kind field rules. `v` is at the targetRef.
 */
export function validateTargetRef(value: unknown, v: Violations, opts: TargetRefOptions): TargetRef | undefined {
  const ref = readTargetRef(value, v);
  if (!ref) return undefined;
  const kind = ref.kind as string | undefined;
  if (kind === undefined || kind === '') {
    v.field('kind').add(MUST_BE_DEFINED);
    return undefined;
  }
  if (!isTargetRefKind(kind) || !opts.supportedKinds.includes(kind)) {
    v.field('kind').add(opts.supportedKindsError ?? 'value is not supported');
    return undefined;
  }
  const disallowed = (field: 'name' | 'mesh' | 'tags' | 'labels' | 'namespace' | 'sectionName' | 'proxyTypes') => {
    if (isSet(ref[field])) v.field(field).add(`${MUST_NOT_BE_SET} with kind ${kind}`);
  };
  const required = (field: 'name') => {
    if (!isSet(ref[field])) v.field(field).add(`${MUST_BE_SET} with kind ${kind}`);
  };
  const validName = () => {
    const name = ref.name ?? '';
    if (!(opts.allowedInvalidNames ?? []).includes(name) && !NAME_CHARACTERS.test(name)) {
      v.field('name').add("invalid characters: must consist of lower case alphanumeric characters, '-', '.' and '_'.");
    }
  };
  const hasLabels = isSet(ref.labels);
  switch (kind) {
    case 'Mesh':
      if (isSet(ref.name)) v.field('name').add(`using name with kind ${kind} is not yet supported`);
      disallowed('mesh');
      disallowed('tags');
      disallowed('labels');
      disallowed('namespace');
      disallowed('sectionName');
      break;
    case 'Dataplane':
      disallowed('tags');
      disallowed('mesh');
      disallowed('proxyTypes');
      if (hasLabels && (isSet(ref.name) || isSet(ref.namespace))) v.field('labels').add('either labels or name and namespace must be specified');
      if (!opts.isInboundPolicy && isSet(ref.sectionName)) v.field('sectionName').add('can only be used with inbound policies');
      break;
    case 'MeshSubset':
      disallowed('name');
      disallowed('mesh');
      validateTags(ref.tags ?? {}, v.field('tags'), false);
      disallowed('labels');
      disallowed('namespace');
      disallowed('sectionName');
      break;
    case 'MeshService':
    case 'MeshHTTPRoute':
      validName();
      disallowed('mesh');
      disallowed('tags');
      disallowed('proxyTypes');
      if (!hasLabels) required('name');
      if (hasLabels && (isSet(ref.name) || isSet(ref.namespace))) v.field('labels').add('either labels or name and namespace must be specified');
      if (hasLabels && isSet(ref.sectionName)) v.field('sectionName').add('sectionName should not be combined with labels');
      break;
    case 'MeshServiceSubset':
    case 'MeshGateway':
      required('name');
      validName();
      disallowed('mesh');
      disallowed('proxyTypes');
      validateTags(ref.tags ?? {}, v.field('tags'), true);
      if (kind === 'MeshGateway' && isSet(ref.tags) && !opts.gatewayListenerTagsAllowed) disallowed('tags');
      disallowed('labels');
      disallowed('namespace');
      disallowed('sectionName');
      break;
    case 'MeshExternalService':
      validName();
      disallowed('mesh');
      disallowed('tags');
      disallowed('proxyTypes');
      if (!hasLabels) required('name');
      if (hasLabels && (isSet(ref.name) || isSet(ref.namespace))) v.field('labels').add('either labels or name must be specified');
      disallowed('sectionName');
      break;
    case 'MeshMultiZoneService':
      // Kuma has no per-field rules for this kind.
      break;
  }
  return ref;
}

/**
 * Kuma's IncludesGateways: the top-level targetRef can select gateways (MeshGateway,
 * MeshHTTPRoute, or Mesh/MeshSubset whose proxyTypes are empty or name Gateway).
 */
export function includesGateways(ref: Readonly<{ kind: string; proxyTypes?: TargetRef['proxyTypes'] }>): boolean {
  if (ref.kind === 'MeshGateway' || ref.kind === 'MeshHTTPRoute') return true;
  if (ref.kind === 'Mesh' || ref.kind === 'MeshSubset') return !ref.proxyTypes || ref.proxyTypes.length === 0 || ref.proxyTypes.includes('Gateway');
  return false;
}
