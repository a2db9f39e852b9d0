import { MeshIdentityType, MeshTrustType } from '../ca/mesh-identity.ts';
import { AccessRoleBindingType, AccessRoleType } from './access-role.ts';
import { DataplaneType } from './dataplane.ts';
import { MeshType } from './mesh.ts';
import { TypeRegistry } from './registry.ts';
import { GlobalSecretType, SecretType } from './secret.ts';

/** Registers the core (non-policy) types. Policies register themselves from libs/policies. */
export function registerBuiltinTypes(registry: TypeRegistry): TypeRegistry {
  registry.register(MeshType);
  registry.register(DataplaneType);
  registry.register(SecretType);
  registry.register(GlobalSecretType);
  registry.register(MeshIdentityType);
  registry.register(MeshTrustType);
  registry.register(AccessRoleType);
  registry.register(AccessRoleBindingType);
  return registry;
}

export function defaultRegistry(): TypeRegistry {
  return registerBuiltinTypes(new TypeRegistry());
}
