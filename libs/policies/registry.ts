import { defaultRegistry } from '../resources/builtin.ts';
import type { TypeRegistry } from '../resources/registry.ts';
import { registerPolicyTypes } from './register.ts';

/** The registry every process uses: the core types and the policies. */
export function fullRegistry(): TypeRegistry {
  return registerPolicyTypes(defaultRegistry());
}
