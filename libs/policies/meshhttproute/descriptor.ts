import { policyDescriptor } from '../core/descriptor.ts';
import { validateMeshHTTPRoute } from './validate.ts';

export const MeshHTTPRouteType = policyDescriptor({ name: 'MeshHTTPRoute', plural: 'meshhttproutes', shortName: 'mhttpr', validate: validateMeshHTTPRoute });
