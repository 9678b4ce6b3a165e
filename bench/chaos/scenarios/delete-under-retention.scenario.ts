/**
 * Deleting an interaction under retention, and under a legal hold, as every role. Each request
 * must be refused (403 for roles without the right, 409 for the compliance officer) and each
 * refusal audited; the interaction must still be there.
 */
import type { ChaosScenario } from '../scenario';
import { ledgerEntries, ledgerLength } from '../calls';
import { sharedRecordedCall } from '../shared-call';
import { TENANT, USERS, type ChaosStack } from '../stack';

const ROLES = ['admin', 'officer', 'auditor', 'supervisor', 'operator'] as const;

export const deleteUnderRetention: ChaosScenario<ChaosStack> = {
  name: 'delete-under-retention',
  description:
    'every role deletes an interaction under retention, then under a legal hold: all refused and audited',
  async run(context) {
    const stack = await context.stack();
    const call = await sharedRecordedCall(stack);
    const path = `/api/archive/interactions/${TENANT}/${call.interactionId}`;
    const before = await ledgerLength(stack);
    const statuses: number[] = [];
    const attempt = async () => {
      for (const role of ROLES)
        statuses.push(
          (await stack.api('DELETE', path, { token: await stack.userToken(role) })).status,
        );
    };
    await attempt();
    const officer = await stack.userToken('officer');
    const hold = await stack.api<{ hold?: { holdId: string } }>('POST', '/api/archive/holds', {
      token: officer,
      body: {
        matterId: 'CHAOS-1',
        description: 'fault campaign',
        scope: { interactionIds: [call.interactionId] },
      },
    });
    await attempt();
    const stillThere = (await stack.api('GET', path, { token: officer })).status === 200;
    const actors = new Set<string>(ROLES.map((r) => USERS[r]));
    const audited = (await ledgerEntries(stack, before)).filter(
      (e) =>
        e.actor !== undefined &&
        actors.has(e.actor) &&
        e.details?.action === 'deleteInteraction' &&
        typeof e.details.outcome === 'string' &&
        /^(denied|refused|rejected):/.test(e.details.outcome),
    ).length;
    const refused = statuses.filter((s) => s === 403 || s === 409).length;
    return {
      isPassed:
        refused === statuses.length &&
        audited === statuses.length &&
        stillThere &&
        hold.status < 300,
      figures: {
        attempts: statuses.length,
        refused,
        refused409: statuses.filter((s) => s === 409).length,
        auditedRefusals: audited,
        holdPlacedStatus: hold.status,
        interactionStillThere: stillThere,
      },
    };
  },
};
