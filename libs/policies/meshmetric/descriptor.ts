import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshMetric } from './validate.ts';

export const MeshMetricType = policyDescriptor({ name: 'MeshMetric', plural: 'meshmetrics', shortName: 'mm', validate: validateMeshMetric });
