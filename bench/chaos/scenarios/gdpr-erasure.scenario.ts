/**
 * A GDPR erasure request for a recorded user whose interaction is under retention: the request is
 * answered, nothing of the retained interaction is erased, and each refused item names its legal
 * basis.
 */
import type { ChaosScenario } from '../scenario';
import { sharedRecordedCall } from '../shared-call';
import { TENANT, USERS, type ChaosStack } from '../stack';

interface ErasureAnswer {
  readonly erased?: readonly unknown[];
  readonly refused?: readonly { readonly reason?: string; readonly legalBasis?: string }[];
}

export const gdprErasureUnderRetention: ChaosScenario<ChaosStack> = {
  name: 'gdpr-erasure-under-retention',
  description:
    'erasure of a recorded user under retention: refused with its legal basis, nothing erased',
  async run(context) {
    const stack = await context.stack();
    const call = await sharedRecordedCall(stack);
    const officer = await stack.userToken('officer');
    const answer = await stack.api<ErasureAnswer>(
      'POST',
      `/api/archive/subjects/${USERS.trader}/erasure`,
      { token: officer },
    );
    const refused = answer.body?.refused ?? [];
    const withBasis = refused.filter(
      (r) => typeof r.legalBasis === 'string' && r.legalBasis !== '',
    );
    const stillThere =
      (
        await stack.api('GET', `/api/archive/interactions/${TENANT}/${call.interactionId}`, {
          token: officer,
        })
      ).status === 200;
    return {
      isPassed:
        answer.status === 200 &&
        refused.length > 0 &&
        withBasis.length === refused.length &&
        stillThere,
      figures: {
        status: answer.status,
        erased: answer.body?.erased?.length ?? 0,
        refused: refused.length,
        refusedWithLegalBasis: withBasis.length,
        legalBasis: withBasis[0]?.legalBasis ?? null,
        interactionStillThere: stillThere,
      },
    };
  },
};
