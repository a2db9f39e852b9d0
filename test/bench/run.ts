/**
 * `npm run bench [-- name...]`: runs the named benchmarks (all by default), prints their
 * figures and saves each as `.bench-results/<name>.json`. Figures are never asserted.
 */
import { saveResults } from './stats.ts';

const BENCHES: Record<string, () => Promise<{ run: () => Promise<unknown> }>> = {
  foundation: () => import('./foundation.ts'),
  xds: () => import('./xds.ts'),
  audit: () => import('./audit.ts'),
  scale: () => import('./scale.ts'),
  secrets: () => import('./secrets.ts'),
  wire: () => import('./wire.ts'),
  decode: () => import('./decode.ts'),
  translate: () => import('./translate.ts'),
  policies: () => import('./policies.ts'),
  mtls: () => import('./mtls.ts'),
  reachable: () => import('./reachable.ts'),
  postgres: () => import('./postgres.ts'),
  kubernetes: () => import('./kubernetes.ts'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
for (const name of wanted.length > 0 ? wanted : Object.keys(BENCHES)) {
  const load = BENCHES[name];
  if (!load) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(`== ${name}`);
  const results = await (await load()).run();
  console.log(`saved ${saveResults(name, results)}`);
}
// Clients and child processes may leave handles behind: the figures are saved, so end here.
process.exit(0);
