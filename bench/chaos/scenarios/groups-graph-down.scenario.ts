/**
 * Graph down while an officer's token carries the groups overage claim: the officer cannot be
 * scoped, so every request is refused (403) and audited; with Graph back, the same token works.
 */
import type { ChaosScenario } from '../scenario';
import { ledgerEntries, ledgerLength } from '../calls';
import { TENANT, USERS, type ChaosStack } from '../stack';

export const groupsGraphDown: ChaosScenario<ChaosStack> = {
  name: 'groups-graph-down',
  description:
    'an officer with the groups overage claim while Graph is down: refused and audited, allowed after',
  async run(context) {
    const stack = await context.stack();
    const issued = await stack.control<{ access_token: string }>('POST', '/_sim/users/token', {
      tenantId: TENANT,
      userId: USERS.officer,
      isGroupsOverage: true,
    });
    const token = issued.body.access_token;
    const before = await ledgerLength(stack);
    await stack.control('PUT', '/_sim/graph/directory/fault', { status: 503 });
    const down = await stack.api('GET', '/api/archive/interactions', { token });
    await stack.control('DELETE', '/_sim/graph/directory/fault');
    const up = await stack.api('GET', '/api/archive/interactions', { token });
    const audited = (await ledgerEntries(stack, before)).filter(
      (e) => e.actor === USERS.officer && e.details?.outcome === 'denied:groupsUnavailable',
    ).length;
    return {
      isPassed: down.status === 403 && audited === 1 && up.status === 200,
      figures: { statusWhileDown: down.status, auditedRefusals: audited, statusAfter: up.status },
    };
  },
};
