import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshTrafficPermission } from './validate.ts';

export const MeshTrafficPermissionType = policyDescriptor({
  name: 'MeshTrafficPermission',
  plural: 'meshtrafficpermissions',
  shortName: 'mtp',
  validate: validateMeshTrafficPermission,
});
