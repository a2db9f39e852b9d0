import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshLoadBalancingStrategy } from './validate.ts';

export const MeshLoadBalancingStrategyType = policyDescriptor({
  name: 'MeshLoadBalancingStrategy',
  plural: 'meshloadbalancingstrategies',
  shortName: 'mlbs',
  validate: validateMeshLoadBalancingStrategy,
});
