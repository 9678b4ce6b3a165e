/**
 * Party keys: how a data subject is named in the party index, whatever part they played in an
 * interaction (recorded user, other Teams user, guest, application, PSTN caller or callee). A
 * phone number becomes `tel:+<digits>` (E.164: country code and number, punctuation dropped);
 * an identity (an Entra object id, a guest or application id) becomes `id:<id in lower case>`.
 * Pure.
 */
import type { CallParticipant, InteractionRecord } from '@attest/core';

/** `tel:+14255550100` or `id:5d6c…`. */
export type PartyKey = `tel:+${string}` | `id:${string}`;

/** E.164 numbers have at most 15 digits; shorter than 7 is an extension, not a caller. */
const MIN_PHONE_DIGITS = 7;
const MAX_PHONE_DIGITS = 15;
const MAX_ID_LENGTH = 256;
const PHONE_SHAPE = /^\+?[0-9][0-9 ().-]*$/;
// Ids are opaque but printable: no control characters, no slashes (they travel in a route).
const ID_SHAPE = /^[^\s/\\?#\p{Cc}]+$/u;

/** The key of a phone number (`+1 (425) 555-0100` → `tel:+14255550100`), or undefined. */
export function phoneKeyOf(raw: string): PartyKey | undefined {
  const trimmed = raw.trim();
  if (!PHONE_SHAPE.test(trimmed)) return undefined;
  const digits = trimmed.replace(/\D/g, '');
  if (digits.length < MIN_PHONE_DIGITS || digits.length > MAX_PHONE_DIGITS) return undefined;
  return `tel:+${digits}`;
}

/** The key of an identity id (compared without case, as Entra object ids are), or undefined. */
export function identityKeyOf(raw: string): PartyKey | undefined {
  const trimmed = raw.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_ID_LENGTH || !ID_SHAPE.test(trimmed))
    return undefined;
  return `id:${trimmed.toLowerCase()}`;
}

/**
 * What a data subject request names: a phone number (digits, with an optional leading `+` and
 * the usual punctuation) or an identity id. Undefined when it is neither.
 */
export function partyKeyOf(raw: string): PartyKey | undefined {
  return phoneKeyOf(raw) ?? identityKeyOf(raw);
}

export const isPhoneKey = (key: PartyKey): boolean => key.startsWith('tel:');

/**
 * Every party key of an interaction: its recorded users, its PSTN numbers (origin and dialed)
 * and each participant by identity (a `phone` participant by its number).
 */
export function partyKeysOf(
  interaction: Pick<InteractionRecord, 'recordedUserIds' | 'originNumber' | 'dialedNumber'>,
  participants: readonly Pick<CallParticipant, 'identityKind' | 'identityId'>[] = [],
): PartyKey[] {
  const keys = new Set<PartyKey>();
  const add = (key: PartyKey | undefined): void => {
    if (key !== undefined) keys.add(key);
  };
  for (const userId of interaction.recordedUserIds) add(identityKeyOf(userId));
  for (const number of [interaction.originNumber, interaction.dialedNumber])
    if (number !== undefined) add(phoneKeyOf(number));
  for (const { identityKind, identityId } of participants) {
    if (identityId === undefined || identityKind === 'unknown') continue;
    add(identityKind === 'phone' ? phoneKeyOf(identityId) : identityKeyOf(identityId));
  }
  return [...keys].sort();
}
