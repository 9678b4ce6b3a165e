import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { BLOB_API_VERSION, createBlockRest, sharedKeyStringToSign } from './block-rest';

describe('block REST requests', () => {
  let server: Server;
  let port: number;
  const seen: { url: string; headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.once('end', () => {
        seen.push({
          url: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        res.writeHead(201);
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => (seen.length = 0));

  it('sends a bearer token from the credential, fetched once and again only near its expiry', async () => {
    let clock = 1_000_000;
    const issued: string[] = [];
    const credential: TokenCredential = {
      getToken: (scope) => {
        issued.push(String(scope));
        return Promise.resolve<AccessToken>({
          token: `token-${issued.length}`,
          expiresOnTimestamp: clock + 60 * 60_000,
        });
      },
    };
    const rest = createBlockRest({ auth: { kind: 'token', credential }, now: () => clock });
    const blob = `http://127.0.0.1:${port}/account/recordings/t/i/streams/audio-11.wav`;
    await Promise.all([
      rest.putBlock(blob, 'QUFBQQ==', Buffer.from('pcm')),
      rest.putBlock(blob, 'QkJCQg==', Buffer.from('pcm')),
    ]);
    clock += 56 * 60_000;
    await rest.putBlockList(blob, ['QUFBQQ==', 'QkJCQg=='], 'audio/wav');

    expect(issued).toEqual([
      'https://storage.azure.com/.default',
      'https://storage.azure.com/.default',
    ]);
    expect(seen.map((r) => r.headers.authorization)).toEqual([
      'Bearer token-1',
      'Bearer token-1',
      'Bearer token-2',
    ]);
    expect(seen[2]).toMatchObject({
      url: '/account/recordings/t/i/streams/audio-11.wav?comp=blocklist',
      body: '<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>QUFBQQ==</Latest><Latest>QkJCQg==</Latest></BlockList>',
    });
    expect(seen[2]!.headers).toMatchObject({
      'x-ms-version': BLOB_API_VERSION,
      'x-ms-blob-content-type': 'audio/wav',
    });
    rest.close();
  });

  it('signs the decoded query, sorted, after the x-ms headers (Shared Key for Blob Storage)', () => {
    const url = new URL(
      'http://127.0.0.1:10000/devstoreaccount1/recordings/a%20b.wav?comp=block&blockid=%2B%2F%3D%3D',
    );
    const signed = sharedKeyStringToSign('devstoreaccount1', 'PUT', url, 640, '', {
      'x-ms-version': '2025-01-05',
      'x-ms-date': 'Tue, 24 Nov 2026 06:00:00 GMT',
    });
    expect(signed).toBe(
      'PUT\n\n\n640\n\n\n\n\n\n\n\n\nx-ms-date:Tue, 24 Nov 2026 06:00:00 GMT\nx-ms-version:2025-01-05\n/devstoreaccount1/devstoreaccount1/recordings/a%20b.wav\nblockid:+/==\ncomp:block',
    );
  });
});
