import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshTCPRoute } from './validate.ts';

export const MeshTCPRouteType = policyDescriptor({ name: 'MeshTCPRoute', plural: 'meshtcproutes', shortName: 'mtcpr', validate: validateMeshTCPRoute });
