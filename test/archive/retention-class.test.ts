/**
 * A compliance officer moves a sealed interaction to another retention class: only to a class
 * that keeps it at least as long, with one `retentionClassChanged` ledger entry (both classes and
 * expiries, the reason, the officer); refusals are recorded and change nothing.
 */
import { callRoute, createAdminHarness } from './archive-admin-harness';

const T0 = '2030-01-01T00:00:00.000Z';
const users = {
  officer: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-1', groups: ['g-all'] },
  auditor: { roles: ['Attest.Auditor'], tenantId: 'tenant-1' },
  otherOfficer: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-2', groups: ['g-all'] },
};
const params = { tenantId: 'tenant-1', interactionId: 'int-1' };

async function setup() {
  // user-staff → class `standard` (30 days); `mifid` keeps 60 days.
  const admin = await createAdminHarness(
    T0,
    users,
    [['tenant-1', 'int-1', 'user-staff', '2030-01-01T09:00:00.000Z']],
    { 'g-all': ['*'] },
  );
  const change = (user: string, body: unknown) =>
    callRoute(admin.handlers.changeRetentionClass, { method: 'POST', user, params, body });
  const record = () => admin.harness.records.get('tenant-1', 'int-1');
  return { ...admin, change, record };
}

describe('changing the retention class of an interaction', () => {
  it('extends to a longer class and writes retentionClassChanged with both expiries', async () => {
    const { change, record, harness } = await setup();
    const before = (await record())!.interaction;
    expect(before.retentionClass).toBe('standard');
    const response = await change('officer', { retentionClass: 'mifid', reason: 'trade call' });
    expect(response.status).toBe(200);
    const after = (await record())!;
    expect([after.interaction.retentionClass, after.dispositionMode]).toEqual([
      'mifid',
      'approval',
    ]);
    const entry = harness.ledger.entries.at(-1)!;
    expect([entry.kind, entry.actor, entry.subjectId, entry.details]).toEqual([
      'retentionClassChanged',
      'officer',
      'int-1',
      {
        previousClass: 'standard',
        retentionClass: 'mifid',
        previousExpiresAt: before.expiresAt,
        expiresAt: after.interaction.expiresAt,
        dispositionMode: 'approval',
        reason: 'trade call',
      },
    ]);
    expect(Date.parse(after.interaction.expiresAt!) - Date.parse(before.expiresAt!)).toBe(
      30 * 86_400_000,
    );
  });

  it('refuses a class that would shorten the retention (409) and keeps the record', async () => {
    const { change, record } = await setup();
    await change('officer', { retentionClass: 'mifid', reason: 'trade call' });
    const before = JSON.stringify(await record());
    const response = await change('officer', { retentionClass: 'standard', reason: 'mistake' });
    expect([response.status, (response.jsonBody as { code: string }).code]).toEqual([
      409,
      'ATT_CONFLICT',
    ]);
    expect(JSON.stringify(await record())).toBe(before);
  });

  it('refuses an unknown class with 400 and the class already held with 409', async () => {
    const { change } = await setup();
    expect((await change('officer', { retentionClass: 'forever', reason: 'x' })).status).toBe(400);
    expect((await change('officer', { retentionClass: 'standard', reason: 'x' })).status).toBe(409);
  });

  it('refuses an auditor with 403 and records the refusal, not a change', async () => {
    const { change, record, harness } = await setup();
    const response = await change('auditor', { retentionClass: 'mifid', reason: 'x' });
    expect(response.status).toBe(403);
    expect((await record())!.interaction.retentionClass).toBe('standard');
    const entry = harness.ledger.entries.at(-1)!;
    expect([entry.kind, entry.details.outcome]).toEqual(['accessed', 'denied:noRole']);
  });

  it("answers 404 to another tenant's officer", async () => {
    const { change, record } = await setup();
    expect((await change('otherOfficer', { retentionClass: 'mifid', reason: 'x' })).status).toBe(
      404,
    );
    expect((await record())!.interaction.retentionClass).toBe('standard');
  });
});
