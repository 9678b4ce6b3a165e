/**
 * The custody configuration recorded at the last start, in `{prefix}archivesettings`
 * (PartitionKey `custody`, RowKey `configuration`): its hash and one hash per section.
 */
import { RestError, type TableClient } from '@azure/data-tables';
import type { CustodyConfigurationStore } from '../domain/archive-ports';
import type { CustodyConfigurationState } from '../domain/custody-configuration';

const PARTITION = 'custody';
const ROW = 'configuration';

export class TableCustodyConfigurationStore implements CustodyConfigurationStore {
  #isReady = false;

  constructor(private readonly table: TableClient) {}

  async get(): Promise<CustodyConfigurationState | undefined> {
    await this.#ready();
    try {
      const row = await this.table.getEntity<{ json: string }>(PARTITION, ROW);
      const state = JSON.parse(row.json) as Partial<CustodyConfigurationState>;
      return typeof state.sha256 === 'string' && typeof state.sections === 'object'
        ? (state as CustodyConfigurationState)
        : undefined;
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 404) return undefined;
      throw error;
    }
  }

  async put(state: CustodyConfigurationState): Promise<void> {
    await this.#ready();
    await this.table.upsertEntity(
      { partitionKey: PARTITION, rowKey: ROW, json: JSON.stringify(state) },
      'Replace',
    );
  }

  async #ready(): Promise<void> {
    if (this.#isReady) return;
    await this.table.createTable();
    this.#isReady = true;
  }
}
