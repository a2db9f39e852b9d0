import { errors } from '@nats-io/nats-core';
import { RequestOne } from '@nats-io/nats-core/internal';

/**
 * A workaround for a cost in @nats-io/nats-core 3.4.0: `RequestOne.resolver` ends every
 * request, successful or not, with `cancel()`, which builds `new RequestError("cancelled")`
 * to reject a promise that is already settled. Each one captures a stack trace: about 5 µs of
 * CPU per KV get or put, 40% of the client's cost of a request, and the largest single item in
 * a gateway's profile while thousands of proxies connect (every manifest read and content
 * fetch is a request). `noAsyncTraces` does not avoid it.
 *
 * The replacement does the same work with one pre-built error for the no-reason case. A
 * request cancelled while still pending (the connection closing) is still rejected with a
 * RequestError "cancelled"; only its stack is the shared one. The patch is applied only when
 * the library's method is the one described here, so a fixed or changed release is left alone.
 */
type Cancellable = {
  timer?: { cancel(): void };
  mux: { cancel(r: unknown): void };
  deferred: { reject(err: unknown): void };
};

let applied: boolean | undefined;

export function avoidRequestCancelCost(): boolean {
  if (applied !== undefined) return applied;
  const proto = RequestOne.prototype as unknown as { cancel(this: Cancellable, err?: Error): void };
  const source = proto.cancel.toString();
  applied = /new errors_1\.RequestError\("cancelled"\)/.test(source) && /this\.mux\.cancel\(this\)/.test(source);
  if (!applied) return false;
  const cancelled = new errors.RequestError('cancelled');
  proto.cancel = function cancel(this: Cancellable, err?: Error): void {
    this.timer?.cancel();
    this.mux.cancel(this);
    this.deferred.reject(err ?? cancelled);
  };
  return true;
}
