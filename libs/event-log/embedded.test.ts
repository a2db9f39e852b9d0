import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeEventLog } from './contract.ts';
import { openEmbeddedEventLog } from './embedded.ts';

const dirs: string[] = [];
describeEventLog('embedded', {
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kuma-embedded-'));
    dirs.push(dir);
    return { log: await openEmbeddedEventLog(dir), reopen: () => openEmbeddedEventLog(dir) };
  },
  teardown: async () => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })),
});
