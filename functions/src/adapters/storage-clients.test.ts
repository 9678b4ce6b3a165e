import { ManagedIdentityCredential } from '@azure/identity';
import { createStorageClients } from './storage-clients';

const connectionString =
  'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1';

describe('createStorageClients', () => {
  it('uses the connection string and no credential locally', () => {
    const clients = createStorageClients({ connectionString, regionalRecordings: [] });
    expect(clients.credential).toBeUndefined();
    expect(clients.tableClient('ledger').url).toBe('http://127.0.0.1:10002/devstoreaccount1');
    expect(clients.blobService().url).toBe('http://127.0.0.1:10000/devstoreaccount1');
  });

  it('uses the account URLs with the user-assigned managed identity in Azure', () => {
    const clients = createStorageClients({
      blobUrl: 'https://strec.blob.core.windows.net',
      tableUrl: 'https://strec.table.core.windows.net',
      managedIdentityClientId: '00000000-0000-0000-0000-000000000001',
      regionalRecordings: [],
    });
    expect(clients.credential).toBeInstanceOf(ManagedIdentityCredential);
    expect(clients.tableClient('ledger').url).toBe('https://strec.table.core.windows.net');
    expect(clients.blobService().url).toBe('https://strec.blob.core.windows.net/');
  });

  it('refuses neither a connection string nor both URLs, naming the settings', () => {
    expect(() =>
      createStorageClients({
        blobUrl: 'https://strec.blob.core.windows.net',
        regionalRecordings: [],
      }),
    ).toThrow(/ATTEST_STORAGE_BLOB_URL and ATTEST_STORAGE_TABLE_URL/);
  });
});
