/**
 * An officer out of scope: a compliance officer whose security group reaches only the sales desk
 * asks for a trader's interaction, its media and its deletion. Each answer must be 403 with a
 * `denied:outOfScope` ledger entry; an officer in scope is allowed (the control).
 */
import type { ChaosScenario } from '../scenario';
import { ledgerEntries, ledgerLength } from '../calls';
import { sharedRecordedCall } from '../shared-call';
import { TENANT, USERS, type ChaosStack } from '../stack';

export const officerOutOfScope: ChaosScenario<ChaosStack> = {
  name: 'officer-out-of-scope',
  description:
    "a sales officer asks for a trader's interaction: 403 and a denied:outOfScope entry each",
  async run(context) {
    const stack = await context.stack();
    const call = await sharedRecordedCall(stack);
    const path = `/api/archive/interactions/${TENANT}/${call.interactionId}`;
    const before = await ledgerLength(stack);
    const sales = await stack.userToken('salesOfficer');
    const answers = [
      await stack.api('GET', path, { token: sales }),
      await stack.api('GET', `${path}/streams/audio-1`, { token: sales }),
      await stack.api('DELETE', path, { token: sales }),
    ];
    const inScope = await stack.api('GET', path, { token: await stack.userToken('officer') });
    const denied = (await ledgerEntries(stack, before)).filter(
      (e) => e.actor === USERS.salesOfficer && e.details?.outcome === 'denied:outOfScope',
    ).length;
    const refused = answers.filter((a) => a.status === 403).length;
    return {
      isPassed: refused === answers.length && denied === answers.length && inScope.status === 200,
      figures: {
        requests: answers.length,
        refused403: refused,
        deniedEntries: denied,
        inScopeOfficerStatus: inScope.status,
      },
    };
  },
};
