import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshProxyPatch } from './validate.ts';

export const MeshProxyPatchType = policyDescriptor({ name: 'MeshProxyPatch', plural: 'meshproxypatches', shortName: 'mpp', validate: validateMeshProxyPatch });
