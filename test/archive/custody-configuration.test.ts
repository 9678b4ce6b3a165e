/**
 * The custody configuration (retention classes and rules, scopes, recorded-user groups, role
 * mapping, disposition settings) is hashed at every start and compared with the last start's,
 * kept in Azurite Tables: a difference writes one `configurationChanged` ledger entry naming the
 * sections that changed; the same configuration writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { recordCustodyConfiguration } from '../../functions/src/archive/custody-configuration.service';
import { TableCustodyConfigurationStore } from '../../functions/src/adapters/table-custody-configuration';
import { DEFAULT_RETENTION_POLICY } from '../../functions/src/config/archive-config';
import type { CustodyConfiguration } from '../../functions/src/domain/custody-configuration';
import { MemoryLedgerStore } from './support/memory-archive-stores';

const base: CustodyConfiguration = {
  retentionPolicy: DEFAULT_RETENTION_POLICY,
  rbacScopes: { 'g-officers': ['traders'] },
  userGroups: { 'user-1': ['traders'] },
  operatorTenantId: 'tenant-home',
  disposition: { approvalTimeoutInMs: 1_209_600_000, approvalReminderIntervalInMs: 172_800_000 },
};

function setup() {
  const table = TableClient.fromConnectionString(
    process.env.ATTEST_TEST_STORAGE_CONNECTION!,
    `cfg${randomUUID().replace(/-/g, '').slice(0, 12)}`,
    { allowInsecureConnection: true },
  );
  const ledger = new MemoryLedgerStore({ now: () => new Date('2030-01-01T09:00:00.000Z') });
  // A new store object per start, as a restarted process builds it.
  const start = (configuration: CustodyConfiguration) =>
    recordCustodyConfiguration(
      { store: new TableCustodyConfigurationStore(table), ledger },
      configuration,
    );
  return { ledger, start };
}

describe('custody configuration in the ledger', () => {
  it('records the first start with every section and no previous hash', async () => {
    const { ledger, start } = setup();
    await start(base);
    expect(ledger.entries.map((e) => [e.kind, e.subjectType, e.subjectId])).toEqual([
      ['configurationChanged', 'configuration', 'custody'],
    ]);
    expect(ledger.entries[0]!.details).toMatchObject({
      area: 'custody',
      previousSha256: null,
      changedSections: 'disposition,retentionClasses,retentionRules,roleMapping,scopes,userGroups',
    });
  });

  it('writes nothing when a start has the configuration of the last one', async () => {
    const { ledger, start } = setup();
    await start(base);
    await start({ ...base, rbacScopes: { 'g-officers': ['traders'] } });
    expect(ledger.entries).toHaveLength(1);
  });

  it('writes one entry naming the changed section when a retention class changes', async () => {
    const { start } = setup();
    const first = await start(base);
    const longer = {
      ...base,
      retentionPolicy: {
        ...base.retentionPolicy,
        classes: base.retentionPolicy.classes.map((c) => ({ ...c, periodInDays: 3_650 })),
      },
    } as CustodyConfiguration;
    const second = await start(longer);
    expect(second!.details).toMatchObject({
      previousSha256: first!.subjectSha256,
      changedSections: 'retentionClasses',
    });
    expect(second!.subjectSha256).not.toBe(first!.subjectSha256);
    expect(await start(longer)).toBeUndefined();
  });

  it('names scopes and role mapping when an officer group or the operator tenant changes', async () => {
    const { ledger, start } = setup();
    await start(base);
    await start({ ...base, rbacScopes: { 'g-officers': ['*'] }, operatorTenantId: null });
    expect(ledger.entries[1]!.details.changedSections).toBe('roleMapping,scopes');
  });
});
