/**
 * A policy plugin could not produce valid Envoy configuration for a proxy (a MeshProxyPatch
 * whose result is not a valid resource, a plugin that failed). Like ResourceCollisionError, it
 * concerns one proxy: the projector records it, and the proxy keeps its last good configuration.
 */
export class PluginError extends Error {
  override readonly name = 'PluginError';

  constructor(
    /** The plugin's name (`MeshProxyPatch`). */
    readonly plugin: string,
    message: string,
    /** The resource it was producing, when known. */
    readonly resource?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
