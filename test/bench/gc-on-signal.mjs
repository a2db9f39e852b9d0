// Benchmark-only preload, used with --expose-gc: a full garbage collection on SIGWINCH, so the
// scale benchmark samples each server's memory right after one (not wherever V8's heap growth is).
process.on('SIGWINCH', () => globalThis.gc?.());
