/**
 * The one environment reader of both deployables: each `loadConfig(env)` (the function app's and
 * the media host's) reads its `ATTEST_*` settings through it. Typed getters collect every missing
 * or invalid key, and {@link EnvReader.assertValid} throws one `ATT_CONFIG_INVALID` error naming
 * them all. Values are never echoed in messages (some are secrets): only the names of bad keys.
 * Pure: it reads the object it is given, never `process.env`.
 */
import { ErrorCode, RecorderError } from '../errors';

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvReaderOptions {
  /** Prepended to every name the getters are given (`ATTEST_MEDIA_`). Default none. */
  readonly prefix?: string;
  /** The error message's opening words. Default `invalid configuration`. */
  readonly invalidMessage?: string;
}

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1', 'on', 'yes']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0', 'off', 'no']);

export class EnvReader {
  readonly #problems: string[] = [];
  readonly #prefix: string;
  readonly #invalidMessage: string;

  constructor(
    private readonly env: Env,
    options: EnvReaderOptions = {},
  ) {
    this.#prefix = options.prefix ?? '';
    this.#invalidMessage = options.invalidMessage ?? 'invalid configuration';
  }

  /** The full name of a setting (with the prefix). */
  nameOf(name: string): string {
    return `${this.#prefix}${name}`;
  }

  /** A required non-empty string (trimmed); `''` and a problem when missing. */
  string(name: string): string {
    const value = this.optionalString(name);
    if (value === undefined) {
      this.#problems.push(`${this.nameOf(name)} is required`);
      return '';
    }
    return value;
  }

  /** A trimmed string, or undefined when unset or blank. */
  optionalString(name: string): string | undefined {
    const value = this.env[this.nameOf(name)];
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
      this.#problems.push(`${this.nameOf(name)} must be an integer from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  /** `true`/`1`/`on`/`yes` or `false`/`0`/`off`/`no` (any case), with a default. */
  boolean(name: string, fallback: boolean): boolean {
    const raw = this.optionalString(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (TRUE_WORDS.has(raw)) return true;
    if (FALSE_WORDS.has(raw)) return false;
    this.#problems.push(`${this.nameOf(name)} must be true or false`);
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

  /** An absolute http(s) URL without trailing slashes. */
  url(name: string, options: { required: boolean }): string | undefined {
    const raw = options.required ? this.string(name) : this.optionalString(name);
    if (raw === undefined || raw === '') return undefined;
    try {
      const url = new URL(raw);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
      return raw.replace(/\/+$/, '');
    } catch {
      this.#problems.push(`${this.nameOf(name)} must be an absolute http(s) URL`);
      return undefined;
    }
  }

  /** Records a problem a getter cannot see (a rule between settings). */
  problem(message: string): void {
    this.#problems.push(message);
  }

  /** The problems found so far. */
  get problems(): readonly string[] {
    return [...this.#problems];
  }

  /** Throws one {@link RecorderError} (`ATT_CONFIG_INVALID`) listing every problem found so far. */
  assertValid(): void {
    if (this.#problems.length > 0) {
      throw new RecorderError(
        ErrorCode.ConfigInvalid,
        `${this.#invalidMessage}: ${this.#problems.join('; ')}`,
        { details: { problemCount: this.#problems.length } },
      );
    }
  }
}
