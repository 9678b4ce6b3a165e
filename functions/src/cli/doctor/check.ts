/** One line of `attest doctor`: what was checked, what is wrong, and what to do about it. */
export interface CheckResult {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'skip';
  /** What was found (no secrets, no personal data). */
  readonly detail: string;
  /** What to do; set on every failure. */
  readonly remedy?: string;
}

export const pass = (name: string, detail: string): CheckResult => ({
  name,
  status: 'pass',
  detail,
});
export const fail = (name: string, detail: string, remedy: string): CheckResult => ({
  name,
  status: 'fail',
  detail,
  remedy,
});
export const skip = (name: string, detail: string): CheckResult => ({
  name,
  status: 'skip',
  detail,
});

/** `PASS  name  detail` / `FAIL  name  detail -> remedy`, names aligned. */
export function formatResult(result: CheckResult): string {
  const label = { pass: 'PASS', fail: 'FAIL', skip: 'SKIP' }[result.status];
  const line = `${label}  ${result.name.padEnd(20)} ${result.detail}`;
  return result.remedy === undefined ? line : `${line} -> ${result.remedy}`;
}

/** The message of an error, without anything after a newline (SDK errors carry request dumps). */
export function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.slice(0, 200) ?? 'unknown error';
}
