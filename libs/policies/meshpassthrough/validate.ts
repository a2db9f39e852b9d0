import { isIP } from '../../resources/fields.ts';
import type { JsonObject, Violations } from '../../resources/validation.ts';
import { enumOf, integer, objects, string } from '../core/fields.ts';
import { MUST_BE_DEFINED } from '../core/messages.ts';
import { singleItem } from '../core/single-item.ts';
import { PROTOCOLS } from './api.ts';

const WILDCARD_DOMAIN = /^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

/** Kuma's MeshPassthrough validator (validator.go). `v` is at `spec`. */
export function validateMeshPassthrough(spec: Readonly<JsonObject>, v: Violations): void {
  const conf = singleItem(spec, v, ['Mesh', 'MeshSubset', 'Dataplane'], ['passthroughMode', 'appendMatch']);
  if (!conf) return;
  const dv = v.field('default');
  enumOf(conf, 'passthroughMode', dv, ['All', 'Matched', 'None']);
  for (const { item, v: mv } of objects(conf, 'appendMatch', dv, ['type', 'value', 'port', 'protocol'])) {
    const type = enumOf(item, 'type', mv, ['Domain', 'IP', 'CIDR'], true);
    const protocol = enumOf(item, 'protocol', mv, PROTOCOLS) ?? 'tcp';
    const port = integer(item, 'port', mv, 0, 65535);
    const value = string(item, 'value', mv);
    if (!value) {
      mv.field('value').add(MUST_BE_DEFINED);
      continue;
    }
    if (type === 'IP' && !isIP(value)) mv.field('value').add('provided IP has incorrect value');
    if (type === 'CIDR') {
      const [ip, bits, ...rest] = value.split('/');
      const max = ip && ip.includes(':') ? 128 : 32;
      if (rest.length > 0 || !ip || !isIP(ip) || bits === undefined || !/^\d+$/.test(bits) || Number(bits) > max) mv.field('value').add('provided CIDR has incorrect value');
    }
    if (type === 'Domain') {
      if (!WILDCARD_DOMAIN.test(value)) mv.field('value').add('provided DNS has incorrect value');
      if (protocol === 'tcp') mv.field('protocol').add('protocol tcp is not supported for a domain');
    }
    if (port === 0) mv.field('port').add('port must be a valid (1-65535)');
  }
}
