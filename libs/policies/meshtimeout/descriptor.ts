import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshTimeout } from './validate.ts';

export const MeshTimeoutType = policyDescriptor({ name: 'MeshTimeout', plural: 'meshtimeouts', shortName: 'mt', validate: validateMeshTimeout });
