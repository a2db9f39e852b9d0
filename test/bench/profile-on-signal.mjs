// Benchmark-only preload: a CPU profile of exactly one phase. The first SIGPWR starts V8's
// profiler, the next writes `<BENCH_PROFILE_DIR>/<pid>-<n>.cpuprofile` and stops it.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.env.BENCH_PROFILE_DIR ?? '.';
const session = new Session();
session.connect();
let running = false;
let n = 0;
process.on('SIGPWR', () => {
  if (!running) {
    running = true;
    session.post('Profiler.enable', () => session.post('Profiler.start'));
    return;
  }
  running = false;
  session.post('Profiler.stop', (err, res) => {
    if (!err) writeFileSync(join(dir, `${process.pid}-${++n}.cpuprofile`), JSON.stringify(res.profile));
  });
});
