import type { Logger } from 'pino';
import type { Actor } from '../../libs/event-log/event.ts';
import { checkDecoded, DecodeError, decodeJson, decodeYaml } from '../../libs/resources/decode.ts';
import type { TypeRegistry } from '../../libs/resources/registry.ts';
import { ValidationError } from '../../libs/resources/validation.ts';
import { decodeResource, type ResourceInput } from '../../libs/resources/wire.ts';
import type { Node } from '../../libs/xds/ads-codec.ts';
import { proxyKey, type ProxyId } from './proxy-id.ts';
import { AuthenticationError } from './stream.ts';

/** Writes registered Dataplanes: the API's command path in one process, NATS in a distributed one. */
export interface DataplaneWriter {
  upsert(input: ResourceInput, actor: Actor): Promise<void>;
  remove(proxy: ProxyId, actor: Actor): Promise<void>;
}

/** The Dataplane a proxy carries in `dataplane.resource` node metadata (kuma-dp --dataplane-file). */
export function dataplaneFromNode(node: Node, registry: TypeRegistry, proxy: ProxyId): ResourceInput | undefined {
  const raw = node.metadata['dataplane.resource'];
  if (raw === undefined || raw === '') return undefined;
  let body: unknown;
  try {
    // Bounded (size, depth, prototype keys) before the parser sees it; a Struct is checked the same way.
    // JSON (what kuma-dp sends) through the JSON decoder, which is several times cheaper; YAML otherwise. Both bounded alike.
    if (typeof raw === 'string') body = raw.trimStart().startsWith('{') ? decodeJson(raw) : decodeYaml(raw);
    else {
      checkDecoded(raw);
      body = raw;
    }
  } catch (err) {
    if (err instanceof DecodeError) throw new AuthenticationError(`could not parse dataplane.resource: ${err.message}`);
    throw err;
  }
  let input: ResourceInput;
  try {
    input = decodeResource(body, registry, { type: 'Dataplane' });
  } catch (err) {
    const detail = err instanceof ValidationError ? err.violations.map((v) => `${v.field}: ${v.reason}`).join('; ') : (err as Error).message;
    throw new AuthenticationError(`dataplane.resource is invalid: ${detail}`);
  }
  if (input.mesh !== proxy.mesh || input.name !== proxy.name) {
    throw new AuthenticationError(`proxyId ${proxyKey(proxy)} does not match proxy resource ${input.mesh}.${input.name}`);
  }
  return input;
}

/**
 * Kuma's "direct" Dataplane lifecycle: a proxy that brings its Dataplane is registered when it
 * connects, and deregistered `delayMs` after its last stream closes, unless it reconnected
 * meanwhile (to any stream of this gateway).
 */
export class DataplaneLifecycle {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly registered = new Set<string>();
  /** Bumped on every registration, so a deregistration can tell that the proxy came back meanwhile. */
  private connects = 0;
  private readonly lastConnect = new Map<string, number>();

  constructor(
    private readonly writer: DataplaneWriter,
    private readonly registry: TypeRegistry,
    private readonly isConnected: (key: string) => boolean | Promise<boolean>,
    private readonly delayMs: number,
    private readonly logger: Logger,
  ) {}

  async onConnect(proxy: ProxyId, node: Node): Promise<void> {
    const input = dataplaneFromNode(node, this.registry, proxy);
    if (!input) return;
    const key = proxyKey(proxy);
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.lastConnect.set(key, ++this.connects);
    await this.writer.upsert(input, { subject: key, source: 'dp-registration' });
    this.registered.add(key);
    this.logger.info({ component: 'dp-lifecycle', proxy: key }, 'registered dataplane');
  }

  onDisconnect(proxy: ProxyId): void {
    const key = proxyKey(proxy);
    if (!this.registered.has(key) || this.timers.has(key)) return;
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.deregister(proxy, key);
      }, this.delayMs),
    );
  }

  private async deregister(proxy: ProxyId, key: string): Promise<void> {
    const seen = this.lastConnect.get(key);
    try {
      if (await this.isConnected(key)) return;
      // It may have come back while that was read.
      if (this.lastConnect.get(key) !== seen || this.timers.has(key) || !this.registered.has(key)) return;
      this.registered.delete(key);
      this.lastConnect.delete(key);
      await this.writer.remove(proxy, { subject: key, source: 'dp-registration' });
      this.logger.info({ component: 'dp-lifecycle', proxy: key }, 'deregistered dataplane');
    } catch (err) {
      this.logger.warn({ component: 'dp-lifecycle', proxy: key, err: (err as Error).message }, 'could not deregister dataplane');
    }
  }

  /** On shutdown no Dataplane is removed (graceful shutdown is not a disconnect), as in Kuma. */
  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
