/** `GET archive/live`: the calls in progress a caller may listen in to, by role and scope. */
import { HttpRequest, type HttpResponseInit, InvocationContext } from '@azure/functions';
import type { InteractionRecord } from '@attest/core';
import type { InteractionFilter } from '../../functions/src/domain/recorder-ports';
import { createLiveCallsHandler } from '../../functions/src/http/live-calls.http';
import type { LiveCall } from '../../functions/src/http/live-listen.http';
import { fakeAdminAccess } from '../support/admin-access-fake';

const users = {
  supervisor: { roles: ['supervisor'], tenantId: 'tenant-1', groups: ['g-trader-leads'] },
  salesSupervisor: { roles: ['supervisor'], tenantId: 'tenant-1', groups: ['g-sales-leads'] },
  auditor: { roles: ['auditor'], tenantId: 'tenant-1' },
};
const scopes = { 'g-trader-leads': ['traders'], 'g-sales-leads': ['sales'] };

const inProgress = (callId: string, tenantId = 'tenant-1'): InteractionRecord => ({
  tenantId,
  interactionId: `int-${callId}`,
  callId,
  type: 'p2p',
  direction: 'inbound',
  outcome: 'inProgress',
  invitedAt: '2030-01-01T09:00:00.000Z',
  recordedUserIds: ['u-1'],
  recordingStatusHistory: [],
  gaps: [],
});
const live = (callId: string, groupIds: string[]): LiveCall => ({
  tenantId: 'tenant-1',
  interactionId: `int-${callId}`,
  sessionId: `s-${callId}`,
  groupIds,
  listenBaseUrl: 'wss://mh-1.example:7400',
});

function setup() {
  const { access, entries } = fakeAdminAccess(users, { scopes });
  const filters: InteractionFilter[] = [];
  const handler = createLiveCallsHandler({
    access,
    interactions: {
      list: (filter) => {
        filters.push(filter);
        return Promise.resolve([
          inProgress('call-traders'),
          inProgress('call-sales'),
          inProgress('call-ended'),
        ]);
      },
    },
    calls: {
      getLiveCall: (callId) =>
        Promise.resolve(
          callId === 'call-traders'
            ? live(callId, ['traders'])
            : callId === 'call-sales'
              ? live(callId, ['sales'])
              : undefined,
        ),
    },
  });
  const get = async (user: string) =>
    handler(
      new HttpRequest({
        method: 'GET',
        url: 'http://localhost:7071/api/archive/live',
        headers: { authorization: `Bearer ${user}` },
      }),
      new InvocationContext({ functionName: 'archiveLiveCalls', logHandler: () => undefined }),
    );
  return { get, entries, filters };
}

describe('GET archive/live', () => {
  it('lists the live calls in the supervisor’s scope, without any listen grant', async () => {
    const { get, entries, filters } = setup();
    const response = await get('supervisor');
    expect(response.status).toBe(200);
    const body = (response as HttpResponseInit).jsonBody as { items: Record<string, unknown>[] };
    expect(body.items.map((i) => i.callId)).toEqual(['call-traders']);
    expect(JSON.stringify(body)).not.toMatch(/wss:|s-call/);
    expect(filters).toEqual([{ tenantId: 'tenant-1', outcome: 'inProgress', top: 200 }]);
    expect(entries.at(-1)?.details).toMatchObject({
      action: 'liveListen',
      outcome: 'listed',
      resultCount: 1,
    });
  });

  it('shows another scope its own calls only', async () => {
    const { get } = setup();
    const body = ((await get('salesSupervisor')) as HttpResponseInit).jsonBody as {
      items: { callId: string }[];
    };
    expect(body.items.map((i) => i.callId)).toEqual(['call-sales']);
  });

  it('refuses a role that may not listen in, and records it', async () => {
    const { get, entries, filters } = setup();
    expect((await get('auditor')).status).toBe(403);
    expect(filters).toEqual([]);
    expect(entries.at(-1)?.details).toMatchObject({ outcome: 'denied:noRole' });
  });
});
