import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type ServiceName = 'kuma-cp' | 'kuma-dp' | 'kumactl';

/**
 * Node arguments that start a service from its TypeScript sources through tsx, the way tests (and the
 * local launcher) run it: they always exercise the current code, never a stale dist/. Users run the
 * `bin` entries instead, which load the JavaScript that `npm run build` wrote to dist/.
 */
export function serviceArgs(service: ServiceName): string[] {
  return ['--import', 'tsx', join(ROOT, 'services', service, 'main.ts')];
}
