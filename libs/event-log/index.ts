export * from './event.ts';
export * from './errors.ts';
export * from './port.ts';
export * from './subject.ts';
export { openMemoryEventLog } from './memory.ts';
export { openEmbeddedEventLog } from './embedded.ts';
export { JetStreamEventLog, type JetStreamLogOptions } from './jetstream.ts';
export { InstrumentedEventLog, type AppendOutcome } from './instrumented.ts';
