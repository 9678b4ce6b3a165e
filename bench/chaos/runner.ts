/**
 * Runs fault-campaign scenarios one after another and collects one result per scenario: its
 * figures, whether it passed, how long it took, or the error that stopped it (a scenario that
 * throws is reported, never ends the campaign). Knows nothing of the stack: the stack is
 * whatever `startStack` returns, started once, on first use, and closed at the end.
 */
import type { ChaosContext, ChaosFigure, ChaosScenario } from './scenario';

export interface ChaosScenarioReport {
  readonly name: string;
  readonly description: string;
  readonly isPassed: boolean;
  readonly durationInS: number;
  readonly figures: Readonly<Record<string, ChaosFigure>>;
  readonly error?: string;
}

export interface ChaosCampaignReport {
  readonly startedAt: string;
  readonly durationInS: number;
  readonly passed: number;
  readonly failed: number;
  readonly scenarios: readonly ChaosScenarioReport[];
}

export interface ChaosRunOptions<Stack> {
  readonly startStack: () => Promise<Stack & { close(): Promise<void> }>;
  /** Log lines of the campaign so far (captured by the caller). */
  readonly logLines: readonly string[];
  readonly progress: (message: string) => void;
  readonly now?: () => number;
}

export async function runChaosCampaign<Stack>(
  scenarios: readonly ChaosScenario<Stack>[],
  options: ChaosRunOptions<Stack>,
): Promise<ChaosCampaignReport> {
  const now = options.now ?? Date.now;
  const startedAt = now();
  let started: Promise<Stack & { close(): Promise<void> }> | undefined;
  const reports: ChaosScenarioReport[] = [];
  try {
    for (const [index, scenario] of scenarios.entries()) {
      options.progress(
        `[${index + 1}/${scenarios.length}] ${scenario.name}: ${scenario.description}`,
      );
      const context: ChaosContext<Stack> = {
        stack: () => (started ??= options.startStack()),
        logLines: options.logLines,
        progress: (message) => options.progress(`  ${scenario.name}: ${message}`),
      };
      const began = now();
      let report: ChaosScenarioReport;
      try {
        const result = await scenario.run(context);
        report = {
          name: scenario.name,
          description: scenario.description,
          isPassed: result.isPassed,
          durationInS: seconds(now() - began),
          figures: result.figures,
        };
      } catch (error) {
        report = {
          name: scenario.name,
          description: scenario.description,
          isPassed: false,
          durationInS: seconds(now() - began),
          figures: {},
          error: error instanceof Error ? error.message.slice(0, 300) : 'failed',
        };
      }
      reports.push(report);
      options.progress(
        `  ${scenario.name}: ${report.isPassed ? 'passed' : 'FAILED'} in ${report.durationInS} s ${
          report.error ?? JSON.stringify(report.figures)
        }`,
      );
    }
  } finally {
    if (started !== undefined) await (await started.catch(() => undefined))?.close();
  }
  const passed = reports.filter((r) => r.isPassed).length;
  return {
    startedAt: new Date(startedAt).toISOString(),
    durationInS: seconds(now() - startedAt),
    passed,
    failed: reports.length - passed,
    scenarios: reports,
  };
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** The human summary: one line per scenario and the totals. */
export function summarizeCampaign(report: ChaosCampaignReport): string {
  const width = Math.max(...report.scenarios.map((s) => s.name.length), 8);
  const lines = report.scenarios.map((s) => {
    const figures =
      s.error ??
      Object.entries(s.figures)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ');
    return `${s.isPassed ? 'ok  ' : 'FAIL'} ${s.name.padEnd(width)} ${figures}`;
  });
  return [
    ...lines,
    `chaos: ${report.passed} passed, ${report.failed} failed in ${report.durationInS} s`,
  ].join('\n');
}
