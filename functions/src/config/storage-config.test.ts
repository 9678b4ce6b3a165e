import { EnvReader } from '@attest/core';
import { readStorageConfig } from './storage-config';

const BASE = { ATTEST_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' };

function read(env: Record<string, string>) {
  const reader = new EnvReader({ ...BASE, ...env });
  const config = readStorageConfig(reader);
  return { config, assert: () => reader.assertValid() };
}

describe('readStorageConfig: regional recordings accounts', () => {
  it('has none unless ATTEST_STORAGE_REGIONS is set', () => {
    const { config, assert } = read({});
    assert();
    expect(config.regionalRecordings).toEqual([]);
  });

  it('reads a blob endpoint or a connection string per region', () => {
    const { config, assert } = read({
      ATTEST_STORAGE_REGIONS: JSON.stringify({
        westeurope: 'https://strecwe.blob.core.windows.net/',
        northeurope: 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5',
      }),
    });
    assert();
    expect(config.regionalRecordings).toEqual([
      { region: 'westeurope', blobUrl: 'https://strecwe.blob.core.windows.net' },
      {
        region: 'northeurope',
        connectionString:
          'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5',
      },
    ]);
  });

  it('reads the list of {region, blobUrl} the deployment writes', () => {
    const { config, assert } = read({
      ATTEST_STORAGE_REGIONS: JSON.stringify([
        { region: 'northeurope', blobUrl: 'https://strecne.blob.core.windows.net/' },
      ]),
    });
    assert();
    expect(config.regionalRecordings).toEqual([
      { region: 'northeurope', blobUrl: 'https://strecne.blob.core.windows.net' },
    ]);
  });

  it.each([
    ['not JSON', '{westeurope'],
    ['an array of strings', '["https://a.blob.core.windows.net"]'],
    ['a bad region name', JSON.stringify({ 'West Europe': 'https://a.blob.core.windows.net' })],
    ['a value that is no account', JSON.stringify({ westeurope: 'secret-value-123' })],
  ])('refuses %s, naming the key and never the value', (_what, value) => {
    const { assert } = read({ ATTEST_STORAGE_REGIONS: value });
    expect(assert).toThrow(/ATTEST_STORAGE_REGIONS/);
    expect(assert).not.toThrow(/secret-value-123/);
  });
});
