import { describeEventLog } from './contract.ts';
import { openMemoryEventLog } from './memory.ts';

describeEventLog('memory', { open: async () => ({ log: await openMemoryEventLog() }) });
