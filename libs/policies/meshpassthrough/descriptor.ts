import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshPassthrough } from './validate.ts';

export const MeshPassthroughType = policyDescriptor({ name: 'MeshPassthrough', plural: 'meshpassthroughs', shortName: 'mp', validate: validateMeshPassthrough });
