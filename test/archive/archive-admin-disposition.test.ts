/** The archive admin API: deletion (retention, hold, two-person rule), GDPR erasure, holds. */
import { DAY_IN_MS, runDisposition } from './archive-fixtures';
import { call, setup, trader } from './archive-admin-setup';

describe('archive admin API', () => {
  it('refuses deletion before expiry through the API, and under hold after expiry', async () => {
    const { harness, handlers } = await setup();
    const early = await call(handlers.deleteInteraction, {
      method: 'DELETE',
      user: 'officer',
      params: { tenantId: 'tenant-1', interactionId: 'int-s1' },
    });
    expect(early.response).toMatchObject({
      status: 409,
      jsonBody: { code: 'ATT_RETENTION_LOCKED' },
    });
    await call(handlers.placeHold, {
      method: 'POST',
      user: 'officer',
      body: { matterId: 'M-9', description: 'd', scope: { interactionIds: ['int-s1'] } },
    });
    harness.clock.advance(32 * DAY_IN_MS);
    const held = await call(handlers.deleteInteraction, {
      method: 'DELETE',
      user: 'officer',
      params: { tenantId: 'tenant-1', interactionId: 'int-s1' },
    });
    expect(held.response).toMatchObject({ status: 409, jsonBody: { code: 'ATT_LEGAL_HOLD' } });
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-s1')).toHaveLength(4);
  });

  it('asks for a deletion at expiry and waits for a second person (two-person rule)', async () => {
    const { harness, handlers, events } = await setup();
    harness.clock.advance(32 * DAY_IN_MS);
    const before = harness.ledger.entries.length;
    const { response } = await call(handlers.deleteInteraction, {
      method: 'DELETE',
      user: 'officer',
      params: { tenantId: 'tenant-1', interactionId: 'int-s1' },
    });
    expect(response).toMatchObject({ status: 202, jsonBody: { state: 'awaitingApproval' } });
    expect(harness.ledger.entries.slice(before)).toEqual([
      expect.objectContaining({ kind: 'dispositionRequested', actor: 'officer' }),
    ]);
    expect(events.started).toEqual([
      {
        instanceId: 'disp-tenant-1-int-s1',
        input: expect.objectContaining({ mode: 'approval', requestedBy: 'officer' }) as unknown,
      },
    ]);
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-s1')).toHaveLength(4);
  });

  it('refuses the requester approving their own deletion, and records the refusal', async () => {
    const { harness, handlers, events } = await setup();
    harness.clock.advance(32 * DAY_IN_MS);
    const params = { tenantId: 'tenant-1', interactionId: 'int-s1' };
    await call(handlers.deleteInteraction, { method: 'DELETE', user: 'officer', params });
    const before = harness.ledger.entries.length;
    const self = await call(handlers.decideDisposition, {
      method: 'POST',
      user: 'officer',
      params,
      body: { isApproved: true },
    });
    expect(self.response).toMatchObject({ status: 403, jsonBody: { code: 'ATT_FORBIDDEN' } });
    expect(events.raised).toEqual([]);
    expect(harness.ledger.entries.slice(before)).toEqual([
      expect.objectContaining({
        actor: 'officer',
        details: expect.objectContaining({ outcome: 'denied:selfApproval' }) as unknown,
      }),
    ]);
    const second = await call(handlers.decideDisposition, {
      method: 'POST',
      user: 'officer2',
      params,
      body: { isApproved: true },
    });
    expect(second.response.status).toBe(202);
    expect(events.raised.map((r) => r.decision.decidedBy)).toEqual(['officer2']);
  });

  it("deletes once the second person approved, in that person's name", async () => {
    const { harness } = await setup();
    harness.clock.advance(32 * DAY_IN_MS);
    const { result } = await runDisposition(
      harness,
      {
        tenantId: 'tenant-1',
        interactionId: 'int-s1',
        mode: 'approval',
        requestedBy: 'officer',
        approvalTimeoutInMs: 14 * DAY_IN_MS,
        reminderIntervalInMs: 2 * DAY_IN_MS,
      },
      [
        // The same person twice is one person: the requester's approval does not count.
        {
          afterInMs: 1_000,
          payload: { decisionId: 'd-1', decidedBy: 'officer', isApproved: true },
        },
        {
          afterInMs: 2_000,
          payload: { decisionId: 'd-2', decidedBy: 'officer2', isApproved: true },
        },
      ],
    );
    expect(result).toMatchObject({ status: 'deleted' });
    expect(harness.ledger.entries.at(-1)).toMatchObject({ kind: 'deleted', actor: 'officer2' });
  });

  it("never deletes on the requester's approval alone, however often given", async () => {
    const { harness } = await setup();
    harness.clock.advance(32 * DAY_IN_MS);
    const self = (n: number) => ({
      afterInMs: n * 1_000,
      payload: { decisionId: `d-${n}`, decidedBy: 'officer', isApproved: true },
    });
    const { result } = await runDisposition(
      harness,
      {
        tenantId: 'tenant-1',
        interactionId: 'int-s1',
        mode: 'approval',
        requestedBy: 'officer',
        approvalTimeoutInMs: 14 * DAY_IN_MS,
        reminderIntervalInMs: 2 * DAY_IN_MS,
      },
      [self(1), self(2)],
    );
    expect(result).toEqual({ status: 'timedOut' });
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-s1')).toHaveLength(4);
  });

  it('refuses a GDPR erasure under hold and before expiry with the legal basis recorded', async () => {
    const { harness, handlers } = await setup();
    await call(handlers.placeHold, {
      method: 'POST',
      user: 'officer',
      body: { matterId: 'M-7', description: 'd', scope: { interactionIds: ['int-s1'] } },
    });
    const before = harness.ledger.entries.length;
    const held = await call(handlers.subjectErasure, {
      method: 'POST',
      user: 'officer',
      params: { userId: 'user-a' },
    });
    expect(held.response.jsonBody).toEqual({
      deleted: [],
      refused: [
        {
          tenantId: 'tenant-1',
          interactionId: 'int-s1',
          reason: 'legalHold',
          legalBasis: 'legal hold, matter M-7',
        },
      ],
    });
    expect(harness.ledger.entries.slice(before)).toEqual([
      expect.objectContaining({
        kind: 'erasureRefused',
        details: expect.objectContaining({ legalBasis: 'legal hold, matter M-7' }),
      }),
    ]);
    const young = await call(handlers.subjectErasure, {
      method: 'POST',
      user: 'officer',
      params: { userId: 'user-trader' },
    });
    expect(young.response.jsonBody).toMatchObject({
      refused: [
        { interactionId: 'int-t1', reason: 'notExpired', legalBasis: 'MiFID II Art. 16(7)' },
      ],
    });
    expect(await harness.blobs.listRecordingBlobs('tenant-1', 'int-s1')).toHaveLength(4);
  });

  it('honours an erasure once retention has ended', async () => {
    const { harness, handlers } = await setup();
    harness.clock.advance(32 * DAY_IN_MS);
    const { response } = await call(handlers.subjectErasure, {
      method: 'POST',
      user: 'officer',
      params: { userId: 'user-a' },
    });
    expect(response.jsonBody).toEqual({ deleted: ['int-s1'], refused: [] });
  });

  it("relays a second person's disposition decision and records it once", async () => {
    const { harness, handlers, events } = await setup();
    const before = harness.ledger.entries.length;
    const { response } = await call(handlers.decideDisposition, {
      method: 'POST',
      user: 'officer2',
      params: trader,
      body: { isApproved: true },
    });
    expect(response.status).toBe(202);
    expect(events.raised).toEqual([
      {
        instanceId: 'disp-tenant-1-int-t1',
        decision: { decisionId: 'id-1', decidedBy: 'officer2', isApproved: true },
      },
    ]);
    expect(harness.ledger.entries.slice(before).map((e) => e.kind)).toEqual([
      'dispositionApproved',
    ]);
  });

  it('releases a hold once', async () => {
    const { handlers } = await setup();
    await call(handlers.placeHold, {
      method: 'POST',
      user: 'officer',
      body: { matterId: 'M-1', description: 'd', scope: { recordedUserIds: ['user-a'] } },
    });
    expect(
      (
        await call(handlers.releaseHold, {
          method: 'POST',
          user: 'officer2',
          params: { holdId: 'id-1' },
        })
      ).response.status,
    ).toBe(200);
    expect(
      (
        await call(handlers.releaseHold, {
          method: 'POST',
          user: 'officer2',
          params: { holdId: 'id-1' },
        })
      ).response.status,
    ).toBe(409);
  });

  it('answers 400 for a hold without any scope criterion', async () => {
    const { handlers } = await setup();
    const { response } = await call(handlers.placeHold, {
      method: 'POST',
      user: 'officer',
      body: { matterId: 'M-1', description: 'd', scope: {} },
    });
    expect(response).toMatchObject({ status: 400, jsonBody: { code: 'ATT_INVALID_REQUEST' } });
  });
});
