/**
 * The party index in Azure Tables (Azurite): a party's interactions are found per tenant only,
 * writes are idempotent, and no phone number or identity is stored in clear.
 */
import { TableClient } from '@azure/data-tables';
import { archiveTableNames } from '../../functions/src/adapters/table-archive-stores';
import { TablePartyIndex } from '../../functions/src/adapters/table-party-index';

const connection = (): string => {
  const value = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  if (value === undefined)
    throw new Error(
      'ATTEST_TEST_STORAGE_CONNECTION is not set: run through the integration project',
    );
  return value;
};

describe('the party index on Azurite', () => {
  const table = () =>
    TableClient.fromConnectionString(
      connection(),
      archiveTableNames(`pty${process.pid}t${Date.now().toString(36)}`).parties,
      { allowInsecureConnection: true },
    );

  it('finds a party’s interactions in its tenant only, once each, with nothing in clear', async () => {
    const client = table();
    const index = new TablePartyIndex(client);
    await index.add('tenant-a', 'int-1', ['tel:+14255550100', 'id:user-a']);
    await index.add('tenant-a', 'int-1', ['tel:+14255550100']);
    await index.add('tenant-a', 'int-2', ['tel:+14255550100']);
    await index.add('tenant-b', 'int-9', ['tel:+14255550100']);

    expect([...(await index.listInteractionIds('tenant-a', 'tel:+14255550100'))].sort()).toEqual([
      'int-1',
      'int-2',
    ]);
    expect(await index.listInteractionIds('tenant-b', 'tel:+14255550100')).toEqual(['int-9']);
    expect(await index.listInteractionIds('tenant-b', 'id:user-a')).toEqual([]);
    const rows: string[] = [];
    for await (const row of client.listEntities()) rows.push(JSON.stringify(row));
    expect(rows).toHaveLength(4);
    expect(rows.join('\n')).not.toMatch(/4255550100|user-a/);
  });

  it('remembers a tenant’s backfill per index version', async () => {
    const index = new TablePartyIndex(table());
    expect(await index.isBackfilled('tenant-a', 'v1')).toBe(false);
    await index.markBackfilled('tenant-a', 'v1', new Date('2030-01-01T00:00:00Z'));
    expect(await index.isBackfilled('tenant-a', 'v1')).toBe(true);
    expect(await index.isBackfilled('tenant-b', 'v1')).toBe(false);
    expect(await index.isBackfilled('tenant-a', 'v2')).toBe(false);
  });
});
