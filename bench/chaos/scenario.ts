/**
 * One scenario of the fault campaign (`npm run chaos`): it breaks one thing on the local stack
 * and returns its figures, counts and booleans that mean the same on a loaded machine as on a
 * quiet one. A scenario is one module exporting a {@link ChaosScenario}, listed once in
 * `scenarios/index.ts`.
 */

/** A figure of a scenario: a count, a yes/no, or a short fact (a verifier's location). */
export type ChaosFigure = number | boolean | string | null;

export interface ChaosScenarioResult {
  /** Whether the system behaved as the issue requires in this scenario. */
  readonly isPassed: boolean;
  readonly figures: Readonly<Record<string, ChaosFigure>>;
}

export interface ChaosContext<Stack> {
  /** The shared local stack (started once, on the first scenario that asks for it). */
  stack(): Promise<Stack>;
  /** Every log line written by every process of the campaign so far. */
  readonly logLines: readonly string[];
  /** One progress line on stdout. */
  progress(message: string): void;
}

export interface ChaosScenario<Stack = unknown> {
  /** kebab-case, stable: the key in bench/results/chaos.json. */
  readonly name: string;
  /** What is broken and what is expected, one sentence. */
  readonly description: string;
  run(context: ChaosContext<Stack>): Promise<ChaosScenarioResult>;
}
