/**
 * The shape of a legal hold, as a zod schema: request bodies are checked against it before a hold
 * is stored, and stored holds are read through it, so a hold that cannot be understood is
 * skipped (and reported) instead of failing every retention decision of every tenant.
 */
import { validateHoldScope, type LegalHold, type LegalHoldScope } from '@attest/core';
import { z } from 'zod';

// eslint-disable-next-line no-control-regex
const SAFE_ID = /^(?!.*\.\.)[^/\\#?%\u0000-\u001f\u007f-\u009f]+$/;
const id = z.string().min(1).max(128).regex(SAFE_ID, 'must be an opaque id');
const instant = z.iso.datetime({ offset: true });

/** A hold's scope: at least one criterion; tenant is never part of it (the hold's tenant is). */
export const holdScopeSchema: z.ZodType<LegalHoldScope> = z
  .strictObject({
    recordedUserIds: z.array(id).max(1000).optional(),
    from: instant.optional(),
    to: instant.optional(),
    interactionIds: z.array(id).max(1000).optional(),
  })
  .superRefine((scope, context) => {
    for (const message of validateHoldScope(scope)) context.addIssue({ code: 'custom', message });
  });

const storedHoldSchema: z.ZodType<LegalHold> = z.object({
  tenantId: z.string().min(1),
  holdId: z.string().min(1),
  matterId: z.string(),
  description: z.string(),
  custodian: z.string(),
  scope: holdScopeSchema,
  createdAt: z.string(),
  createdBy: z.string(),
  releasedAt: z.string().optional(),
  releasedBy: z.string().optional(),
});

/** A stored hold, or undefined when its JSON is not a hold this version understands. */
export function parseStoredHold(json: string): LegalHold | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  const result = storedHoldSchema.safeParse(value);
  return result.success ? result.data : undefined;
}
