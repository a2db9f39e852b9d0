import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshFaultInjection } from './validate.ts';

export const MeshFaultInjectionType = policyDescriptor({
  name: 'MeshFaultInjection',
  plural: 'meshfaultinjections',
  shortName: 'mfi',
  validate: validateMeshFaultInjection,
});
