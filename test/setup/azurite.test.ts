import { TableClient } from '@azure/data-tables';
import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';

const connection = (): string => {
  const value = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  if (value === undefined) throw new Error('global setup did not start Azurite');
  return value;
};

describe('Azurite started by the global setup', () => {
  it('stores and reads back a table entity', async () => {
    const table = TableClient.fromConnectionString(connection(), 'setupcheck', {
      allowInsecureConnection: true,
    });
    await table.createTable();
    await table.createEntity({ partitionKey: 'p', rowKey: 'r', value: 42 });
    const entity = await table.getEntity<{ value: number }>('p', 'r');
    expect(entity.value).toBe(42);
  });

  it('serves blob and queue endpoints', async () => {
    const blobs = BlobServiceClient.fromConnectionString(connection());
    const container = blobs.getContainerClient('setupcheck');
    await container.createIfNotExists();
    await container.getBlockBlobClient('a.txt').upload('hello', 5);
    const downloaded = await container.getBlobClient('a.txt').downloadToBuffer();
    expect(downloaded.toString()).toBe('hello');
    const queue =
      QueueServiceClient.fromConnectionString(connection()).getQueueClient('setupcheck');
    await queue.createIfNotExists();
    await queue.sendMessage('m');
    const received = await queue.receiveMessages();
    expect(received.receivedMessageItems[0]?.messageText).toBe('m');
  });
});
