import { spawnSync } from 'node:child_process';
import path from 'node:path';

/**
 * Runs the .NET bridge's xunit suite (media-host/bridge/test) as part of `npm test`: codec and
 * golden frames, queue and gap reports, buffer disposal, the link's resend, subscriptions,
 * configuration errors. Needs the .NET SDK (CI installs it; see .ci/run).
 */
const solution = path.resolve(__dirname, '../../media-host/bridge/Attest.MediaBridge.sln');

describe('media bridge (.NET)', () => {
  it('passes its xunit tests', () => {
    const run = spawnSync(
      'dotnet',
      ['test', solution, '--nologo', '-v', 'q', '--logger', 'console;verbosity=minimal'],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, DOTNET_NOLOGO: '1' },
      },
    );
    const output = `${run.stdout}\n${run.stderr}`;
    if (run.status !== 0)
      throw new Error(`dotnet test failed (exit ${run.status}):\n${output.slice(-6000)}`);
    const summary = /Failed:\s+(\d+), Passed:\s+(\d+)/.exec(output);
    expect(summary).not.toBeNull();
    expect(Number(summary?.[1])).toBe(0);
    expect(Number(summary?.[2])).toBeGreaterThanOrEqual(60);
  }, 900_000);
});
