/** The Kuma version this control plane is compatible with, reported by every component. */
export const KUMA_VERSION = '2.14.0';
