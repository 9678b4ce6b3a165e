/**
 * The fault campaign's plumbing (`npm run chaos`): the runner runs each scenario once, starts the
 * stack only when a scenario asks for it and closes it at the end, reports a throwing scenario
 * without stopping the campaign, and the secrets scan (the cheap scenario) finds what it must.
 * The full campaign against the local stack is a benchmark, not a test.
 */
import { runChaosCampaign, summarizeCampaign } from '../../bench/chaos/runner';
import type { ChaosScenario } from '../../bench/chaos/scenario';
import {
  scanForSecrets,
  secretsInLogs,
} from '../../bench/chaos/scenarios/secrets-in-logs.scenario';

interface FakeStack {
  readonly secrets: readonly string[];
  close(): Promise<void>;
}

function clock(stepInMs: number) {
  let t = Date.parse('2030-01-01T00:00:00.000Z');
  return () => (t += stepInMs);
}

describe('the chaos runner', () => {
  it('runs the secrets scan over the campaign log lines and reports its figures', async () => {
    const lines = ['{"level":"info","message":"invite answered","callId":"c-1"}'];
    let starts = 0;
    let closes = 0;
    const progress: string[] = [];
    const report = await runChaosCampaign([secretsInLogs<FakeStack>((stack) => stack.secrets)], {
      startStack: () => {
        starts += 1;
        return Promise.resolve({
          secrets: ['app-secret-value-123'],
          close: () => Promise.resolve(void (closes += 1)),
        });
      },
      logLines: lines,
      progress: (m) => progress.push(m),
      now: clock(500),
    });
    expect([starts, closes]).toEqual([1, 1]);
    expect(report.scenarios).toEqual([
      expect.objectContaining({
        name: 'secrets-in-logs',
        isPassed: true,
        figures: { linesScanned: 1, findings: 0, firstFinding: null },
      }),
    ]);
    expect([report.passed, report.failed]).toEqual([1, 0]);
    expect(progress[0]).toMatch(/^\[1\/1\] secrets-in-logs: /);
    expect(summarizeCampaign(report)).toMatch(/chaos: 1 passed, 0 failed/);
  });

  it('fails the scan when a known secret or a token is in a line, naming the line', async () => {
    const lines = [
      'ok',
      '{"message":"x","key":"app-secret-value-123"}',
      'authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl',
    ];
    expect(scanForSecrets(lines, ['app-secret-value-123'])).toEqual([
      { line: 2, kind: 'knownSecret' },
      { line: 3, kind: 'jwt' },
      { line: 3, kind: 'bearer' },
    ]);
    const report = await runChaosCampaign(
      [secretsInLogs<FakeStack>(() => [], { needsStack: false })],
      {
        startStack: () => Promise.reject(new Error('not needed')),
        logLines: lines,
        progress: () => undefined,
      },
    );
    expect(report.scenarios[0]).toMatchObject({
      isPassed: false,
      figures: { findings: 2, firstFinding: 'line 3: jwt' },
    });
  });

  it('reports a scenario that throws and goes on with the next; no stack when none asks', async () => {
    const broken: ChaosScenario<FakeStack> = {
      name: 'broken',
      description: 'throws',
      run: () => Promise.reject(new Error('the media host did not register')),
    };
    const fine: ChaosScenario<FakeStack> = {
      name: 'fine',
      description: 'passes',
      run: () => Promise.resolve({ isPassed: true, figures: { count: 3 } }),
    };
    let starts = 0;
    const report = await runChaosCampaign([broken, fine], {
      startStack: () => {
        starts += 1;
        return Promise.reject(new Error('unused'));
      },
      logLines: [],
      progress: () => undefined,
    });
    expect(starts).toBe(0);
    expect(report.scenarios.map((s) => [s.name, s.isPassed, s.error ?? null])).toEqual([
      ['broken', false, 'the media host did not register'],
      ['fine', true, null],
    ]);
  });
});
