/**
 * Bridge benchmark: the .NET bridge's forwarding path with its fake media platform (4-speaker
 * unmixed audio ticks and 6 KB H.264 frames for `ATTEST_BENCH_BRIDGE_CALLS` calls, default 4,
 * over `ATTEST_BENCH_BRIDGE_TICKS` 20 ms ticks each, default 50,000): callback, queue, link and
 * loopback TCP to an acknowledging sink in the same process. Reports process CPU per forwarded
 * frame (target at most 3 µs; the sink's share included, so an upper bound) and the callback's own
 * cost. Builds the fake host in Release first. Writes bench/results/media-bridge.json.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '../..');
const project = join(root, 'media-host/bridge/test/Attest.MediaBridge.FakeHost');
const ticks = process.env.ATTEST_BENCH_BRIDGE_TICKS ?? '50000';
const calls = process.env.ATTEST_BENCH_BRIDGE_CALLS ?? '4';

const build = spawnSync('dotnet', ['build', project, '-c', 'Release', '--nologo', '-v', 'q'], {
  encoding: 'utf8',
});
if (build.status !== 0) {
  process.stderr.write(`${build.stdout}${build.stderr}`);
  process.exit(1);
}
const run = spawnSync(
  'dotnet',
  [
    join(project, 'bin/Release/net8.0/Attest.MediaBridge.FakeHost.dll'),
    'bench',
    '--ticks',
    ticks,
    '--calls',
    calls,
  ],
  { encoding: 'utf8' },
);
process.stdout.write(run.stdout);
if (run.status !== 0) {
  process.stderr.write(run.stderr);
  process.exit(1);
}
const resultsDir = join(root, 'bench/results');
mkdirSync(resultsDir, { recursive: true });
const result = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
writeFileSync(
  join(resultsDir, 'media-bridge.json'),
  `${JSON.stringify({ ...result, at: new Date().toISOString() }, null, 2)}\n`,
);
