import { isIP } from '../../resources/fields.ts';
import type { JsonObject, Violations } from '../../resources/validation.ts';
import { enumOf, integer, objects, string } from '../core/fields.ts';
import { fieldMustBeOneOf, MUST_BE_DEFINED } from '../core/messages.ts';
import { singleItem } from '../core/single-item.ts';
import { PROTOCOLS } from './api.ts';

const DNS_NAME = /^([a-zA-Z0-9_]([-a-zA-Z0-9_]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9_]([-a-zA-Z0-9_]{0,61}[a-zA-Z0-9])?)*\.?$/;

function isCIDR(value: string): boolean {
  const [ip, bits, ...rest] = value.split('/');
  if (rest.length > 0 || !ip || !isIP(ip) || bits === undefined || !/^\d+$/.test(bits)) return false;
  return Number(bits) <= (ip.includes(':') ? 128 : 32);
}

/** Kuma's MeshPassthrough validator (validator.go). `v` is at `spec`. */
export function validateMeshPassthrough(spec: Readonly<JsonObject>, v: Violations): void {
  const conf = singleItem(spec, v, ['Mesh', 'MeshSubset', 'Dataplane'], ['passthroughMode', 'appendMatch']);
  if (!conf) return;
  const dv = v.field('default');
  enumOf(conf, 'passthroughMode', dv, ['All', 'Matched', 'None']);
  const unique = new Map<string, Set<string>>();
  for (const { item, v: mv } of objects(conf, 'appendMatch', dv, ['type', 'value', 'port', 'protocol'])) {
    const type = item['type'];
    const protocol = item['protocol'] ?? 'tcp';
    const port = integer(item, 'port', mv, 0, 4294967295);
    const value = string(item, 'value', mv);
    if (port !== undefined && (port === 0 || port > 65535)) mv.field('port').add('port must be a valid (1-65535)');
    if (!value) {
      mv.field('value').add(MUST_BE_DEFINED);
      continue;
    }
    if (port !== undefined) {
      const key = `${port}/${String(protocol)}`;
      const seen = unique.get(key) ?? new Set<string>();
      // Kuma's message, spelling included.
      if (seen.has(value)) mv.field('value').add(`value ${value} is already defiend for this port and protocol`);
      seen.add(value);
      unique.set(key, seen);
    }
    if (!(PROTOCOLS as readonly unknown[]).includes(protocol)) mv.field('protocol').add(fieldMustBeOneOf('protocol', ...PROTOCOLS));
    switch (type) {
      case 'CIDR':
        if (!isCIDR(value)) mv.field('value').add('provided CIDR has incorrect value');
        break;
      case 'IP':
        if (!isIP(value)) mv.field('value').add('provided IP has incorrect value');
        break;
      case 'Domain': {
        if (protocol === 'tcp') mv.field('protocol').add('protocol tcp is not supported for a domain');
        if (/^\*[^.]+/.test(value)) mv.field('value').add('provided DNS has incorrect value, partial wildcard is currently not supported');
        const name = value.startsWith('*.') ? value.slice(2) : value;
        if (!name.startsWith('*') && !DNS_NAME.test(name)) mv.field('value').add('provided DNS has incorrect value');
        break;
      }
      default:
        mv.field('type').add(`provided type ${String(type ?? '')} is not supported, one of Domain, IP, or CIDR is supported`);
    }
  }
}
