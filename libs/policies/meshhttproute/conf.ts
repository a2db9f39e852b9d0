import type { BackendRef } from '../core/split.ts';

/**
 * MeshHTTPRoute's merged `to[].default` for one destination (api/v1alpha1/meshhttproute.go,
 * helpers.go PolicyDefault), in Kuma's field names: rules merged by identical `matches`, the
 * first rule of a route first. `hostnames` only concern gateways.
 */
export interface MeshHTTPRouteConf {
  readonly rules?: readonly Rule[];
  readonly hostnames?: readonly string[];
}

export interface Rule {
  readonly matches: readonly Match[];
  readonly default: RuleConf;
}

export interface RuleConf {
  readonly filters?: readonly Filter[];
  readonly backendRefs?: readonly BackendRef[];
}

export interface Match {
  readonly path?: PathMatch;
  readonly method?: string;
  readonly queryParams?: readonly QueryParamsMatch[];
  readonly headers?: readonly HeaderMatch[];
}

export interface PathMatch {
  readonly value: string;
  readonly type: 'Exact' | 'PathPrefix' | 'RegularExpression';
}

export interface QueryParamsMatch {
  readonly type: 'Exact' | 'RegularExpression';
  readonly name: string;
  readonly value: string;
}

/** api/common/v1alpha1 HeaderMatch; `type` defaults to Exact. */
export interface HeaderMatch {
  readonly type?: 'Exact' | 'Present' | 'RegularExpression' | 'Absent' | 'Prefix';
  readonly name: string;
  readonly value?: string;
}

export interface HeaderValue {
  readonly name: string;
  readonly value: string;
}

export interface HeaderModifier {
  readonly set?: readonly HeaderValue[];
  readonly add?: readonly HeaderValue[];
  readonly remove?: readonly string[];
}

export interface PathRewrite {
  readonly type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  readonly replaceFullPath?: string;
  readonly replacePrefixMatch?: string;
}

export interface RequestRedirect {
  readonly scheme?: string;
  readonly hostname?: string;
  readonly path?: PathRewrite;
  readonly port?: number;
  readonly statusCode?: 301 | 302 | 303 | 307 | 308;
}

export interface URLRewrite {
  readonly hostname?: string;
  readonly path?: PathRewrite;
  readonly hostToBackendHostname?: boolean;
}

export interface RequestMirror {
  readonly backendRef: BackendRef;
  readonly percentage?: number | string;
}

export interface Filter {
  readonly type: 'RequestHeaderModifier' | 'ResponseHeaderModifier' | 'RequestRedirect' | 'URLRewrite' | 'RequestMirror';
  readonly requestHeaderModifier?: HeaderModifier;
  readonly responseHeaderModifier?: HeaderModifier;
  readonly requestRedirect?: RequestRedirect;
  readonly urlRewrite?: URLRewrite;
  readonly requestMirror?: RequestMirror;
}
