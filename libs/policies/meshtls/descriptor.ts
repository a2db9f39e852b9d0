import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshTLS } from './validate.ts';

export const MeshTLSType = policyDescriptor({ name: 'MeshTLS', plural: 'meshtlses', shortName: 'mtls', validate: validateMeshTLS });
