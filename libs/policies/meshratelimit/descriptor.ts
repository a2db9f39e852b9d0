import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshRateLimit } from './validate.ts';

export const MeshRateLimitType = policyDescriptor({ name: 'MeshRateLimit', plural: 'meshratelimits', shortName: 'mrl', validate: validateMeshRateLimit });
