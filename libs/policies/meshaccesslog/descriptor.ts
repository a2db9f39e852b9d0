import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshAccessLog } from './validate.ts';

export const MeshAccessLogType = policyDescriptor({ name: 'MeshAccessLog', plural: 'meshaccesslogs', shortName: 'mal', validate: validateMeshAccessLog });
