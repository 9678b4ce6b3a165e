import { ErrorCode, RecorderError } from '@attest/core';

/**
 * Reads `ATTEST_*` settings and collects every problem, so one start reports them all.
 * Values are never echoed in messages: only the names of bad keys.
 */
export class ConfigReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  /** A required non-empty string. */
  string(name: string): string {
    const value = this.env[name];
    if (value === undefined || value.trim() === '') {
      this.problems.push(`${name} is required`);
      return '';
    }
    return value.trim();
  }

  optionalString(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  /** A string with a default. */
  stringOr(name: string, fallback: string): string {
    return this.optionalString(name) ?? fallback;
  }

  /** An integer in [min, max] with a default. */
  integer(name: string, fallback: number, min: number, max: number): number {
    const raw = this.optionalString(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      this.problems.push(`${name} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optionalString(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1') return true;
    if (raw === 'false' || raw === '0') return false;
    this.problems.push(`${name} must be true or false`);
    return fallback;
  }

  /** A comma-separated list, trimmed, empty entries dropped. */
  list(name: string, fallback: readonly string[] = []): readonly string[] {
    const raw = this.optionalString(name);
    if (raw === undefined) return fallback;
    return raw
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '');
  }

  /** An absolute http(s) URL. */
  url(name: string, options: { required: boolean }): string | undefined {
    const raw = options.required ? this.string(name) : this.optionalString(name);
    if (raw === undefined || raw === '') return undefined;
    try {
      const url = new URL(raw);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
      return raw.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${name} must be an absolute http(s) URL`);
      return undefined;
    }
  }

  problem(message: string): void {
    this.problems.push(message);
  }

  /** Throws one {@link RecorderError} listing every problem found so far. */
  assertValid(): void {
    if (this.problems.length > 0) {
      throw new RecorderError(
        ErrorCode.ConfigInvalid,
        `invalid configuration: ${this.problems.join('; ')}`,
        { details: { problemCount: this.problems.length } },
      );
    }
  }
}
