import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshTrace } from './validate.ts';

export const MeshTraceType = policyDescriptor({ name: 'MeshTrace', plural: 'meshtraces', shortName: 'mtr', validate: validateMeshTrace });
