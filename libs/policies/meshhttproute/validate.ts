import { isIP } from '../../resources/fields.ts';
import { isObject, type JsonObject, type Violations } from '../../resources/validation.ts';
import { validateBackendRefs } from '../core/backend-ref.ts';
import { percentageOrNil } from '../core/checks.ts';
import { array, boolean, enumOf, has, integer, object, objects, string } from '../core/fields.ts';
import { MUST_BE_DEFINED, MUST_NOT_BE_DEFINED, MUST_NOT_BE_EMPTY, mustHaveAtLeastOne } from '../core/messages.ts';
import { sectionItems, topLevel } from '../core/spec.ts';
import { validateTargetRef } from '../core/validate-target-ref.ts';
import { FILTER_TYPES, HEADER_MATCH_TYPES, METHODS } from './api.ts';

/** Kuma's MeshHTTPRoute validator (validation.go), system role. `v` is at `spec`. */
export function validateMeshHTTPRoute(spec: Readonly<JsonObject>, v: Violations): void {
  const top = topLevel(spec, v, ['targetRef', 'to'], {
    supportedKinds: ['Mesh', 'MeshGateway', 'MeshSubset', 'MeshService', 'MeshServiceSubset', 'Dataplane'],
    gatewayListenerTagsAllowed: true,
  });
  const gateway = top.kind === 'MeshGateway';
  for (const t of sectionItems(spec, 'to', v, ['targetRef', 'hostnames', 'rules'], {
    supportedKinds: gateway ? ['Mesh'] : ['MeshService', 'MeshExternalService', 'MeshMultiZoneService'],
  })) {
    for (const { item: rule, v: rv } of objects(t.item, 'rules', t.v, ['matches', 'default'])) validateRule(rule, rv, gateway);
    const hostnames = array(t.item, 'hostnames', t.v) ?? [];
    hostnames.forEach((h, i) => typeof h !== 'string' && t.v.field('hostnames').index(i).add('must be a string'));
    if (!gateway && hostnames.length > 0) t.v.field('hostnames').add(MUST_NOT_BE_DEFINED);
  }
}

function validateRule(rule: JsonObject, v: Violations, gateway: boolean): void {
  const matches = objects(rule, 'matches', v, ['path', 'method', 'queryParams', 'headers']);
  for (const { item: m, v: mv } of matches) {
    const path = object(m, 'path', mv, ['type', 'value']);
    if (path) {
      const type = enumOf(path, 'type', mv.field('path'), ['Exact', 'PathPrefix', 'RegularExpression'], true);
      const value = string(path, 'value', mv.field('path')) ?? '';
      const vv = mv.field('path').field('value');
      if (type === 'PathPrefix' && value !== '/') {
        if (value.endsWith('/')) vv.add('does not need a trailing slash because only a `/`-separated prefix or an entire path is matched');
        if (!value.startsWith('/')) vv.add('must be an absolute path');
      } else if (type === 'Exact' && !value.startsWith('/')) vv.add('must be an absolute path');
    }
    enumOf(m, 'method', mv, METHODS);
    const seen = new Set<string>();
    for (const { item: q, v: qv } of objects(m, 'queryParams', mv, ['type', 'name', 'value'])) {
      enumOf(q, 'type', qv, ['Exact', 'RegularExpression'], true);
      const name = string(q, 'name', qv) ?? '';
      string(q, 'value', qv);
      if (seen.has(name)) qv.field('name').add(`multiple entries for name ${name}`);
      seen.add(name);
    }
    for (const { item: h, v: hv } of objects(m, 'headers', mv, ['type', 'name', 'value'])) {
      const type = enumOf(h, 'type', hv, HEADER_MATCH_TYPES) ?? 'Exact';
      if (!string(h, 'name', hv)) hv.field('name').add(MUST_BE_DEFINED);
      const value = string(h, 'value', hv);
      if ((type === 'Present' || type === 'Absent') && value) hv.field('value').add(MUST_NOT_BE_DEFINED);
    }
  }
  const conf = object(rule, 'default', v, ['filters', 'backendRefs']) ?? {};
  const dv = v.field('default');
  const allPrefix = matches.length === 0 || matches.every(({ item }) => isObject(item['path']) && item['path']['type'] === 'PathPrefix');
  let redirect = false;
  for (const { item: f, v: fv } of objects(conf, 'filters', dv, ['type', ...FILTER_FIELDS])) {
    const type = enumOf(f, 'type', fv, FILTER_TYPES, true);
    if (type === 'RequestRedirect') redirect = true;
    validateFilter(f, fv, type, allPrefix, gateway);
  }
  const count = validateBackendRefs(conf, 'backendRefs', dv, ['kuma.io/unresolved-backend']);
  if (count === 0 && gateway && !redirect) dv.field('backendRefs').add(MUST_NOT_BE_EMPTY);
}

const FILTER_FIELDS = ['requestHeaderModifier', 'responseHeaderModifier', 'requestRedirect', 'urlRewrite', 'requestMirror'];
const PATH_REWRITE = ['type', 'replaceFullPath', 'replacePrefixMatch'];

function validateFilter(f: JsonObject, v: Violations, type: string | undefined, allPrefix: boolean, gateway: boolean): void {
  switch (type) {
    case 'RequestHeaderModifier':
    case 'ResponseHeaderModifier': {
      const key = type === 'RequestHeaderModifier' ? 'requestHeaderModifier' : 'responseHeaderModifier';
      const m = object(f, key, v, ['set', 'add', 'remove']);
      if (!m) return void (has(f, key) || v.field(key).add(MUST_BE_DEFINED));
      validateHeaderModifier(m, v.field(key));
      return;
    }
    case 'RequestRedirect': {
      const r = object(f, 'requestRedirect', v, ['scheme', 'hostname', 'path', 'port', 'statusCode']);
      if (!r) return void (has(f, 'requestRedirect') || v.field('requestRedirect').add(MUST_BE_DEFINED));
      const rv = v.field('requestRedirect');
      enumOf(r, 'scheme', rv, ['http', 'https']);
      integer(r, 'port', rv, 0, 65535);
      const code = integer(r, 'statusCode', rv);
      if (code !== undefined && ![301, 302, 303, 307, 308].includes(code)) rv.field('statusCode').add('must be one of: 301, 302, 303, 307, 308');
      const path = object(r, 'path', rv, PATH_REWRITE);
      if (path) enumOf(path, 'type', rv.field('path'), ['ReplaceFullPath', 'ReplacePrefixMatch'], true);
      if (path && has(path, 'replacePrefixMatch') && !allPrefix) rv.field('path').field('replacePrefixMatch').add('can only appear if all matches match a path prefix');
      preciseHostname(r, rv);
      return;
    }
    case 'URLRewrite': {
      const r = object(f, 'urlRewrite', v, ['hostname', 'path', 'hostToBackendHostname']);
      if (!r) return void (has(f, 'urlRewrite') || v.field('urlRewrite').add(MUST_BE_DEFINED));
      const rv = v.field('urlRewrite');
      const path = object(r, 'path', rv, PATH_REWRITE);
      if (path) enumOf(path, 'type', rv.field('path'), ['ReplaceFullPath', 'ReplacePrefixMatch'], true);
      if (path && has(path, 'replacePrefixMatch') && !allPrefix) rv.field('path').field('replacePrefixMatch').add('can only appear if all matches match a path prefix');
      preciseHostname(r, rv);
      if (boolean(r, 'hostToBackendHostname', rv)) {
        if (!gateway) rv.field('hostToBackendHostname').add('can only be set with MeshGateway');
        if (has(r, 'hostname')) rv.field('hostToBackendHostname').add('cannot be set together with hostname');
      }
      return;
    }
    case 'RequestMirror': {
      const m = object(f, 'requestMirror', v, ['backendRef', 'percentage']);
      if (!m) return void (has(f, 'requestMirror') || v.field('requestMirror').add(MUST_BE_DEFINED));
      const mv = v.field('requestMirror');
      const { weight: _w, port: _p, ...ref } = isObject(m['backendRef']) ? m['backendRef'] : {};
      validateTargetRef(ref, mv.field('backendRef'), { supportedKinds: ['MeshService', 'MeshServiceSubset'] });
      percentageOrNil(m, 'percentage', mv);
      return;
    }
    default:
      return;
  }
}

function validateHeaderModifier(m: JsonObject, v: Violations): void {
  if (!has(m, 'set') && !has(m, 'add') && !has(m, 'remove')) return v.add(mustHaveAtLeastOne('set', 'add', 'remove'));
  const seen = new Set<string>();
  const add = (name: unknown, at: Violations) => {
    if (typeof name !== 'string') return at.add('must be a string');
    if (seen.has(name)) at.add('duplicate header name');
    seen.add(name);
  };
  for (const key of ['set', 'add']) {
    for (const { item, v: hv } of objects(m, key, v, ['name', 'value'])) {
      string(item, 'value', hv);
      add(item['name'], hv.field('name'));
    }
  }
  (array(m, 'remove', v) ?? []).forEach((name, i) => add(name, v.field('remove').index(i).field('name')));
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** PreciseHostname: an RFC 1123 subdomain that is not an IP address. */
function preciseHostname(obj: JsonObject, v: Violations): void {
  const h = string(obj, 'hostname', v);
  if (h === undefined) return;
  if (isIP(h)) return v.field('hostname').add('cannot be an IP address');
  if (h.length > 253) v.field('hostname').add('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(h)) {
    v.field('hostname').add(
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
  }
}
