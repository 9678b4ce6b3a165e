import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { blobUrlOf } from './azure-block-store';

const credential = new StorageSharedKeyCredential(
  'devstoreaccount1',
  Buffer.alloc(32).toString('base64'),
);
const services = [
  new BlobServiceClient('http://127.0.0.1:10000/devstoreaccount1', credential),
  new BlobServiceClient('https://attestmedia.blob.core.windows.net', credential),
  new BlobServiceClient('https://attestmedia.blob.core.windows.net/', credential),
];
const names = [
  'tenant-1/interaction-1/streams/audio-7.raw',
  'tenant-1/interaction-1/streams/audio-7.1.raw',
  "t'x/i (1)/a b+c.raw",
  't%20x/i%2Fy/100%.raw',
  'tenant/ünïcødé/日本/🎧.raw',
  'a//b/./c/../d',
  'k=v&x?y#z;~!*',
];

describe('blobUrlOf', () => {
  it.each(services.flatMap((service) => names.map((name) => [service.url, name] as const)))(
    'gives the SDK client URL of %s + %s',
    (serviceUrl, name) => {
      const container = new BlobServiceClient(serviceUrl, credential).getContainerClient('rec1');
      expect(blobUrlOf(container.url, name)).toBe(container.getBlockBlobClient(name).url);
    },
  );
});
