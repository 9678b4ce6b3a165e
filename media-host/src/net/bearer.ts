import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * A check of `Authorization: Bearer <key>` against one key, in constant time whatever the
 * presented length (both sides are hashed before the comparison). The key is never logged.
 */
export function createBearerCheck(key: string): (request: IncomingMessage) => boolean {
  const keyHash = createHash('sha256').update(key, 'utf8').digest();
  return (request) => {
    const header = request.headers.authorization;
    if (typeof header !== 'string' || !/^bearer /i.test(header)) return false;
    const presented = createHash('sha256').update(header.slice(7).trim(), 'utf8').digest();
    return timingSafeEqual(presented, keyHash);
  };
}
