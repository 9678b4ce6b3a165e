/** Compares a conversation's outcome with a scenario's `expect` block: the CLI's pass/fail verdict. */
import type { ScenarioExpectation } from './scenario';

export interface OutcomeLike {
  readonly state: string;
  readonly endReason: string | null;
  readonly participants: readonly { readonly userId: string | null; readonly status: string }[];
}

export interface Verdict {
  readonly isPass: boolean;
  readonly failures: readonly string[];
}

export function judgeOutcome(
  outcome: OutcomeLike,
  expectation: ScenarioExpectation | undefined,
): Verdict {
  const failures: string[] = [];
  if (expectation?.endReason !== undefined && outcome.endReason !== expectation.endReason) {
    failures.push(
      `endReason: expected ${expectation.endReason}, got ${outcome.endReason ?? '(call still active)'}`,
    );
  }
  for (const [userId, status] of Object.entries(expectation?.users ?? {})) {
    const actual = outcome.participants.find((p) => p.userId === userId)?.status;
    if (actual !== status)
      failures.push(`user ${userId}: expected ${status}, got ${actual ?? '(not in call)'}`);
  }
  return { isPass: failures.length === 0, failures };
}
