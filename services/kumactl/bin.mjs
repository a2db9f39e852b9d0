#!/usr/bin/env node
// Runs the JavaScript that `npm ci` built into dist/ (the `prepare` script: `npm run build`, tsc).
// Nothing is transpiled at start. Tests run the TypeScript sources instead (libs/testkit/services.ts).
import { existsSync } from 'node:fs';

const entry = new URL('../../dist/services/kumactl/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('kumactl is not built: run `npm run build` (npm ci and npm install run it)\n');
  process.exit(1);
}
await import(entry.href);
