import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshHealthCheck } from './validate.ts';

export const MeshHealthCheckType = policyDescriptor({ name: 'MeshHealthCheck', plural: 'meshhealthchecks', shortName: 'mhc', validate: validateMeshHealthCheck });
