/**
 * Blob-level legal hold follows legal holds placed and released after sealing. Azurite answers
 * the legal-hold API with 501, so the archive's blob adapter is driven here against a fake of
 * that API (`PUT {container}/{blob}?comp=legalhold` with `x-ms-legal-hold`), as on real Azure.
 * The in-app rule (no deletion under an active hold) is tested elsewhere and holds regardless.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AnonymousCredential, BlobServiceClient } from '@azure/storage-blob';
import { BlobArchiveMediaStore } from '../../functions/src/adapters/blob-archive-media';
import {
  createHarness,
  memoryBlobWriter,
  writeSealedRecording,
  type ArchiveHarness,
} from './archive-fixtures';
import { MemoryRecordingBlobStore } from './support/memory-archive-stores';

interface LegalHoldCall {
  readonly blobName: string;
  readonly isHeld: boolean;
}

/** Answers the blob legal-hold API as Azure does and records every call; anything else 501. */
function fakeLegalHoldApi(): Promise<{ server: Server; url: string; calls: LegalHoldCall[] }> {
  const calls: LegalHoldCall[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    const url = new URL(request.url ?? '/', 'http://x');
    const header = request.headers['x-ms-legal-hold'];
    request.resume();
    if (request.method === 'PUT' && url.searchParams.get('comp') === 'legalhold') {
      // /{account}/{container}/{blob...}: the container and the blob name
      const blobName = decodeURIComponent(url.pathname.split('/').slice(2).join('/'));
      calls.push({ blobName, isHeld: header === 'true' });
      response.writeHead(200, {
        'x-ms-legal-hold': String(header === 'true'),
        'x-ms-request-id': 'r',
        'x-ms-version': '2025-01-05',
      });
      response.end();
      return;
    }
    response.writeHead(501);
    response.end();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/devstoreaccount1`,
        calls,
      }),
    ),
  );
}

/** Media in memory; the legal-hold calls through the real adapter to the fake API. */
class LegalHoldThroughAzure extends MemoryRecordingBlobStore {
  constructor(private readonly azure: BlobArchiveMediaStore) {
    super();
  }
  override setLegalHold(blobName: string, isHeld: boolean): Promise<void> {
    return this.azure.setLegalHold(blobName, isHeld);
  }
}

let api: Awaited<ReturnType<typeof fakeLegalHoldApi>>;
beforeAll(async () => {
  api = await fakeLegalHoldApi();
});
afterAll(() => new Promise<void>((resolve) => api.server.close(() => resolve())));

async function sealedArchive(): Promise<{ harness: ArchiveHarness; blobNames: string[] }> {
  api.calls.length = 0;
  const azure = new BlobArchiveMediaStore(
    new BlobServiceClient(api.url, new AnonymousCredential()),
    {
      isImmutabilitySupported: true,
    },
  );
  const blobs = new LegalHoldThroughAzure(azure);
  const harness = createHarness('2030-01-01T00:00:00.000Z', blobs);
  for (const [interactionId, user] of [
    ['int-1', 'user-a'],
    ['int-2', 'user-b'],
  ] as const) {
    const fixture = await writeSealedRecording(memoryBlobWriter(blobs), {
      tenantId: 'tenant-1',
      interactionId,
      recordedUserIds: [user],
      invitedAt: '2030-01-01T09:00:00.000Z',
    });
    await harness.activities.recordSealed(fixture.interaction);
  }
  return { harness, blobNames: [...(await blobs.listRecordingBlobs('tenant-1', 'int-1'))] };
}

const hold = (holdId: string, userId: string) => ({
  tenantId: 'tenant-1',
  holdId,
  matterId: `M-${holdId}`,
  description: 'd',
  custodian: 'c',
  scope: { recordedUserIds: [userId] },
  actor: 'officer-1',
});

describe('blob legal hold after sealing, through the blob legal-hold API', () => {
  it('sets the legal hold on every blob of the interactions a new hold covers, and only those', async () => {
    const { harness, blobNames } = await sealedArchive();
    expect(api.calls).toEqual([]);
    await harness.activities.placeHold(hold('h-1', 'user-a'));
    expect(blobNames.length).toBeGreaterThan(0);
    expect(api.calls).toEqual(
      blobNames.map((blobName) => ({ blobName: `recordings/${blobName}`, isHeld: true })),
    );
  });

  it('clears it on release when no other hold covers the interaction', async () => {
    const { harness, blobNames } = await sealedArchive();
    await harness.activities.placeHold(hold('h-1', 'user-a'));
    api.calls.length = 0;
    await harness.activities.releaseHold({
      tenantId: 'tenant-1',
      holdId: 'h-1',
      actor: 'officer-1',
    });
    expect(api.calls).toEqual(
      blobNames.map((blobName) => ({ blobName: `recordings/${blobName}`, isHeld: false })),
    );
  });

  it('keeps it on release while another hold still covers the interaction', async () => {
    const { harness } = await sealedArchive();
    await harness.activities.placeHold(hold('h-1', 'user-a'));
    await harness.activities.placeHold(hold('h-2', 'user-a'));
    api.calls.length = 0;
    await harness.activities.releaseHold({
      tenantId: 'tenant-1',
      holdId: 'h-1',
      actor: 'officer-1',
    });
    expect(api.calls).toEqual([]);
  });
});
