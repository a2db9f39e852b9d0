import type { TargetRef } from '../core/target-ref.ts';

/** A route backend (common_api.BackendRef). */
export type BackendRef = TargetRef & { readonly weight?: number; readonly port?: number };

/** MeshHTTPRoute's spec (pkg/plugins/policies/meshhttproute/api/v1alpha1/meshhttproute.go). */
export interface MeshHTTPRouteSpec {
  readonly targetRef?: TargetRef;
  readonly to?: readonly {
    readonly targetRef: TargetRef;
    /** Only with a top-level MeshGateway. */
    readonly hostnames?: readonly string[];
    readonly rules: readonly Rule[];
  }[];
}

export interface Rule {
  readonly matches?: readonly Match[];
  readonly default: { readonly filters?: readonly Filter[]; readonly backendRefs?: readonly BackendRef[] };
}

export interface Match {
  readonly path?: { readonly type: 'Exact' | 'PathPrefix' | 'RegularExpression'; readonly value: string };
  readonly method?: (typeof METHODS)[number];
  readonly queryParams?: readonly { readonly type: 'Exact' | 'RegularExpression'; readonly name: string; readonly value: string }[];
  readonly headers?: readonly { readonly type?: (typeof HEADER_MATCH_TYPES)[number]; readonly name: string; readonly value?: string }[];
}

export interface HeaderModifier {
  readonly set?: readonly { readonly name: string; readonly value: string }[];
  readonly add?: readonly { readonly name: string; readonly value: string }[];
  readonly remove?: readonly string[];
}

export interface PathRewrite {
  readonly type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  readonly replaceFullPath?: string;
  readonly replacePrefixMatch?: string;
}

export interface Filter {
  readonly type: (typeof FILTER_TYPES)[number];
  readonly requestHeaderModifier?: HeaderModifier;
  readonly responseHeaderModifier?: HeaderModifier;
  readonly requestRedirect?: { readonly scheme?: 'http' | 'https'; readonly hostname?: string; readonly path?: PathRewrite; readonly port?: number; readonly statusCode?: number };
  readonly urlRewrite?: { readonly hostname?: string; readonly path?: PathRewrite; readonly hostToBackendHostname?: boolean };
  readonly requestMirror?: { readonly backendRef: BackendRef; readonly percentage?: number | string };
}

export const METHODS = ['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'TRACE'] as const;
export const HEADER_MATCH_TYPES = ['Exact', 'Present', 'RegularExpression', 'Absent', 'Prefix'] as const;
export const FILTER_TYPES = ['RequestHeaderModifier', 'ResponseHeaderModifier', 'RequestRedirect', 'URLRewrite', 'RequestMirror'] as const;
