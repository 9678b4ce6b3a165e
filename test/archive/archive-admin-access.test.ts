/** The archive admin API: who may call which route, each call audited once; search and its bad input. */
import type { ArchiveAdminHandlers } from '../../functions/src/http/archive-admin.http';
import { call, setup, trader, type Call } from './archive-admin-setup';

describe('archive admin API', () => {
  it('answers 401 without a valid token and writes no ledger entry', async () => {
    const { harness, handlers } = await setup();
    const before = harness.ledger.entries.length;
    const { response } = await call(handlers.search, { user: 'stranger' });
    expect(response).toEqual({
      status: 401,
      jsonBody: {
        code: 'ATT_UNAUTHORIZED',
        message: 'a valid bearer token is required',
        status: 401,
      },
    });
    expect(harness.ledger.entries).toHaveLength(before);
  });

  const allowedReads: [string, keyof ArchiveAdminHandlers, Call][] = [
    ['search', 'search', { user: 'auditor', query: { type: 'pstn' } }],
    ['metadata view', 'viewMetadata', { user: 'supervisor', params: trader }],
    ['playback', 'media', { user: 'auditor', params: { ...trader, streamId: 'audio-11' } }],
    [
      'download',
      'media',
      { user: 'officer', params: { ...trader, streamId: 'audio-11' }, query: { download: 'true' } },
    ],
    ['hold list', 'listHolds', { user: 'admin' }],
    ['ledger view', 'viewLedger', { user: 'auditor' }],
    [
      'completeness report',
      'completenessReport',
      { user: 'admin', query: { from: '2030-01-01T00:00:00Z', to: '2030-02-01T00:00:00Z' } },
    ],
    [
      'hold',
      'placeHold',
      {
        method: 'POST',
        user: 'officer',
        body: { matterId: 'M-1', description: 'case', scope: { recordedUserIds: ['user-a'] } },
      },
    ],
    [
      'export',
      'export',
      { method: 'POST', user: 'officer', body: { query: { recordedUserId: 'user-trader' } } },
    ],
  ];

  it.each(allowedReads)(
    'writes exactly one ledger entry for an allowed %s',
    async (_name, route, request) => {
      const { harness, handlers } = await setup();
      const before = harness.ledger.entries.length;
      const { response } = await call(handlers[route], request);
      expect(response.status).toBeLessThan(300);
      expect(harness.ledger.entries).toHaveLength(before + 1);
      expect(harness.ledger.entries[before]!.actor).toBe(request.user);
    },
  );

  const deniedCalls: [string, keyof ArchiveAdminHandlers, Call, string][] = [
    [
      'an admin playing back media',
      'media',
      { user: 'admin', params: { ...trader, streamId: 'audio-11' } },
      'noRole',
    ],
    [
      'an auditor exporting',
      'export',
      { method: 'POST', user: 'auditor', body: { query: {} } },
      'noRole',
    ],
    [
      'an auditor placing a hold',
      'placeHold',
      { method: 'POST', user: 'auditor', body: {} },
      'noRole',
    ],
    [
      'a supervisor downloading',
      'media',
      {
        user: 'supervisor',
        params: { ...trader, streamId: 'audio-11' },
        query: { download: 'true' },
      },
      'noRole',
    ],
    [
      'a compliance officer outside their scope viewing metadata',
      'viewMetadata',
      { user: 'salesOfficer', params: trader },
      'outOfScope',
    ],
    [
      'a compliance officer outside their scope exporting',
      'export',
      { method: 'POST', user: 'salesOfficer', body: { query: {} } },
      'outOfScope',
    ],
    ['a user without a role searching', 'search', { user: 'nobody' }, 'noRole'],
  ];

  it.each(deniedCalls)(
    'answers 403 to %s and records the refusal once',
    async (_name, route, request, reason) => {
      const { harness, handlers } = await setup();
      const before = harness.ledger.entries.length;
      const { response } = await call(handlers[route], request);
      expect(response.status).toBe(403);
      expect(response.jsonBody).toMatchObject({ code: 'ATT_FORBIDDEN', status: 403 });
      expect(harness.ledger.entries).toHaveLength(before + 1);
      expect(harness.ledger.entries[before]).toMatchObject({
        kind: 'accessed',
        actor: request.user,
        details: { outcome: `denied:${reason}` },
      });
    },
  );

  it('filters search results to the caller scope', async () => {
    const { handlers } = await setup();
    const { response } = await call(handlers.search, { user: 'salesOfficer' });
    expect(
      (response.jsonBody as { items: { interactionId: string }[] }).items.map(
        (i) => i.interactionId,
      ),
    ).toEqual(['int-s1']);
  });

  it('searches by recorded user, time range, type and call chain id', async () => {
    const { handlers } = await setup();
    const ids = async (query: Record<string, string>) =>
      (
        (await call(handlers.search, { user: 'auditor', query })).response.jsonBody as {
          items: { interactionId: string }[];
        }
      ).items.map((i) => i.interactionId);
    expect(await ids({ recordedUserId: 'user-a' })).toEqual(['int-s1']);
    expect(await ids({ from: '2030-01-02T00:00:00Z', to: '2030-01-03T00:00:00Z' })).toEqual([
      'int-s1',
    ]);
    expect(await ids({ type: 'meeting' })).toEqual([]);
    expect(await ids({ callChainId: 'chain-int-t1' })).toEqual(['int-t1']);
  });

  it('answers 400 with a problem body for a bad query and records it', async () => {
    const { harness, handlers } = await setup();
    const before = harness.ledger.entries.length;
    const { response } = await call(handlers.search, {
      user: 'auditor',
      query: { from: 'yesterday' },
    });
    expect(response).toEqual({
      status: 400,
      jsonBody: {
        code: 'ATT_INVALID_REQUEST',
        message: 'from must be an ISO 8601 instant',
        status: 400,
      },
    });
    expect(harness.ledger.entries).toHaveLength(before + 1);
  });

  it('answers 400 to an overlong search parameter', async () => {
    const { handlers } = await setup();
    const { response } = await call(handlers.search, {
      user: 'auditor',
      query: { recordedUserId: 'u'.repeat(300) },
    });
    expect(response).toMatchObject({
      status: 400,
      jsonBody: { message: 'recordedUserId is longer than 256 characters' },
    });
  });
});
