import type { TargetRef } from '../core/target-ref.ts';

export interface MeshTLSConf {
  readonly tlsVersion?: { readonly min?: (typeof TLS_VERSIONS)[number]; readonly max?: (typeof TLS_VERSIONS)[number] };
  readonly tlsCiphers?: readonly string[];
  readonly mode?: 'Permissive' | 'Strict';
}

/** MeshTLS's spec (pkg/plugins/policies/meshtls/api/v1alpha1). */
export interface MeshTLSSpec {
  readonly targetRef?: TargetRef;
  /** Deprecated in favour of `rules`. */
  readonly from?: readonly { readonly targetRef: TargetRef; readonly default?: MeshTLSConf }[];
  readonly rules?: readonly { readonly default?: MeshTLSConf }[];
}

export const MODES = ['Permissive', 'Strict'] as const;
export const TLS_VERSIONS = ['TLSAuto', 'TLS10', 'TLS11', 'TLS12', 'TLS13'] as const;
/** api/common/v1alpha1/tls AllCiphers. */
export const CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-CHACHA20-POLY1305',
] as const;
