import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshCircuitBreaker } from './validate.ts';

export const MeshCircuitBreakerType = policyDescriptor({
  name: 'MeshCircuitBreaker',
  plural: 'meshcircuitbreakers',
  shortName: 'mcb',
  validate: validateMeshCircuitBreaker,
});
