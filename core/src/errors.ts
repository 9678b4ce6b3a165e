/**
 * One error type for every Attest deployable. The code is repeated in the message because
 * Durable Functions hands an activity failure back to the orchestrator as a plain Error that
 * keeps only its text; {@link errorCodeOf} reads it back.
 */
export const ErrorCode = {
  InvalidRequest: 'ATT_INVALID_REQUEST',
  InvalidNotification: 'ATT_INVALID_NOTIFICATION',
  Unauthorized: 'ATT_UNAUTHORIZED',
  Forbidden: 'ATT_FORBIDDEN',
  NotFound: 'ATT_NOT_FOUND',
  Conflict: 'ATT_CONFLICT',
  PayloadTooLarge: 'ATT_PAYLOAD_TOO_LARGE',
  MediaHostUnavailable: 'ATT_MEDIA_HOST_UNAVAILABLE',
  MediaSessionFailed: 'ATT_MEDIA_SESSION_FAILED',
  GraphRequestFailed: 'ATT_GRAPH_REQUEST_FAILED',
  GraphThrottled: 'ATT_GRAPH_THROTTLED',
  StorageWriteFailed: 'ATT_STORAGE_WRITE_FAILED',
  SpoolFull: 'ATT_SPOOL_FULL',
  ProtocolViolation: 'ATT_PROTOCOL_VIOLATION',
  IntegrityViolation: 'ATT_INTEGRITY_VIOLATION',
  RetentionLocked: 'ATT_RETENTION_LOCKED',
  LegalHold: 'ATT_LEGAL_HOLD',
  ConfigInvalid: 'ATT_CONFIG_INVALID',
  Internal: 'ATT_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Facts that are safe to log: ids, counts, status codes. Never payloads, tokens or PII. */
export type SafeDetails = Readonly<Record<string, string | number | boolean>>;

export interface RecorderErrorOptions {
  /** Whether the same operation may succeed if tried again. Default false. */
  retryable?: boolean;
  cause?: unknown;
  details?: SafeDetails;
}

export class RecorderError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: SafeDetails;

  constructor(code: ErrorCode, message: string, options: RecorderErrorOptions = {}) {
    super(`[${code}] ${message}`, { cause: options.cause });
    this.name = 'RecorderError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

const knownCodes: ReadonlySet<string> = new Set(Object.values(ErrorCode));
const codeInMessage = /\[(ATT_[A-Z_]+)\]/;

export function isRecorderError(value: unknown): value is RecorderError {
  return value instanceof RecorderError;
}

/** The Attest error code of any thrown value, including a plain Error rebuilt by Durable. */
export function errorCodeOf(value: unknown): ErrorCode | undefined {
  if (value instanceof RecorderError) return value.code;
  const message = value instanceof Error ? value.message : typeof value === 'string' ? value : '';
  const match = codeInMessage.exec(message);
  const code = match?.[1];
  return code !== undefined && knownCodes.has(code) ? (code as ErrorCode) : undefined;
}

/** The JSON body of every 4xx/5xx response Attest sends (RFC 9457 field names plus `code`). */
export interface ProblemBody {
  /** An {@link ErrorCode}, or a host-level code such as `ATT_METHOD_NOT_ALLOWED`. */
  readonly code: string;
  readonly message: string;
  readonly status: number;
  readonly details?: SafeDetails;
}
