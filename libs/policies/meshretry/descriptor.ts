import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshRetry } from './validate.ts';

export const MeshRetryType = policyDescriptor({ name: 'MeshRetry', plural: 'meshretries', shortName: 'mr', validate: validateMeshRetry });
