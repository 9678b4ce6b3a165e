import { createHash } from 'node:crypto';

/** SHA-256 of `data` (a string is hashed as UTF-8), as lowercase hex. The one hash helper. */
export function sha256Hex(data: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
