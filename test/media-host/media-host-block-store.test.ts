/**
 * The Azure block store as the host builds it: Put Block, Put Block List and Append Block as
 * signed REST requests over keep-alive sockets, every other request through `@azure/storage-blob`
 * with the host's keep-alive HTTP client. Against Azurite, plus a local server standing in for a storage
 * service in trouble: every failure keeps the meaning `isTransientStorageError` gives it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlobServiceClient } from '@azure/storage-blob';
import { ErrorCode, RecorderError } from '@attest/core';
import { createAzureBlockStore } from '../../media-host/src/sink/azure-block-store';
import {
  isTransientStorageError,
  withRetries,
  type BlockStore,
} from '../../media-host/src/sink/block-store';
import { StorageRequestError } from '../../media-host/src/sink/block-rest';
import { TransportError } from '../../media-host/src/sink/keep-alive-http-client';

const connectionString = (): string => {
  const value = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  if (value === undefined)
    throw new Error('ATTEST_TEST_STORAGE_CONNECTION is set by the global setup');
  return value;
};

/** Azurite's development account key (published by Microsoft, not a secret). */
const DEV_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const fakeConnection = (port: number, key = DEV_KEY): string =>
  `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${key};BlobEndpoint=http://127.0.0.1:${port}/devstoreaccount1;`;

/** Block ids whose base64 holds `+`, `/` and `=` (escaped in the query, signed decoded). */
const id = (n: number): string => Buffer.from([0xfb, 0xff, 0xbf, n]).toString('base64');
const CONTAINER = 'blockstoretest';

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

async function startFakeStorage(
  answer: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; port: number; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method ?? ''} ${req.url ?? ''}`);
    req.resume();
    req.once('end', () => answer(req, res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, requests };
}

describe('Azure block store (REST hot path, keep-alive SDK client)', () => {
  let store: BlockStore;
  const servers: Server[] = [];

  beforeAll(async () => {
    store = createAzureBlockStore({ connectionString: connectionString() });
    await store.ensureContainer(CONTAINER);
  });
  afterAll(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('stages and commits blocks that the SDK reads back byte for byte, in the committed order', async () => {
    const blocks = [Buffer.alloc(70_000, 1), Buffer.alloc(10, 2), Buffer.alloc(3, 3)];
    for (const [i, bytes] of blocks.entries())
      await store.stageBlock(CONTAINER, 'tenant/int-1/streams/audio-11.wav', id(i), bytes);
    await store.commitBlockList(
      CONTAINER,
      'tenant/int-1/streams/audio-11.wav',
      [id(2), id(0)],
      'audio/wav',
    );

    const blob = BlobServiceClient.fromConnectionString(connectionString())
      .getContainerClient(CONTAINER)
      .getBlockBlobClient('tenant/int-1/streams/audio-11.wav');
    expect(await blob.downloadToBuffer()).toEqual(Buffer.concat([blocks[2]!, blocks[0]!]));
    expect((await blob.getProperties()).contentType).toBe('audio/wav');
    expect(
      await store.getCommittedBlockIds(CONTAINER, 'tenant/int-1/streams/audio-11.wav'),
    ).toEqual([id(2), id(0)]);
  });

  it('stages and commits through the SDK when told to (hotPath sdk), with the same result', async () => {
    const viaSdk = createAzureBlockStore({ connectionString: connectionString(), hotPath: 'sdk' });
    await viaSdk.stageBlock(CONTAINER, 'sdk.raw', id(0), Buffer.from('via '));
    await viaSdk.stageBlock(CONTAINER, 'sdk.raw', id(1), Buffer.from('sdk'));
    await viaSdk.commitBlockList(CONTAINER, 'sdk.raw', [id(0), id(1)], 'audio/wav');
    expect((await store.download(CONTAINER, 'sdk.raw'))?.toString()).toBe('via sdk');
    const error = await rejection(
      viaSdk.commitBlockList(CONTAINER, 'sdk.raw', [id(7)], 'audio/wav'),
    );
    expect(error).toMatchObject({ statusCode: 400 });
    expect(isTransientStorageError(error)).toBe(false);
  });

  it('keeps the committed blocks when a later list names them again with new ones', async () => {
    await store.stageBlock(CONTAINER, 'grow.raw', id(0), Buffer.from('ab'));
    await store.commitBlockList(CONTAINER, 'grow.raw', [id(0)], 'application/octet-stream');
    await store.stageBlock(CONTAINER, 'grow.raw', id(1), Buffer.from('cd'));
    await store.commitBlockList(CONTAINER, 'grow.raw', [id(0), id(1)], 'application/octet-stream');
    expect((await store.download(CONTAINER, 'grow.raw'))?.toString()).toBe('abcd');
  });

  it('uploads and downloads small blobs and reports a missing one through the SDK client', async () => {
    await store.upload(CONTAINER, 'manifest.json', Buffer.from('{"a":1}'), 'application/json');
    expect((await store.download(CONTAINER, 'manifest.json'))?.toString()).toBe('{"a":1}');
    expect(await store.download(CONTAINER, 'missing.json')).toBeUndefined();
    expect(await store.getCommittedBlockIds(CONTAINER, 'missing.raw')).toEqual([]);
  });

  it('appends custody journal lines in order; the first append creates the append blob (ndjson)', async () => {
    const name = 'tenant/int-1/sessions/session-1.jsonl';
    await store.appendBlock(CONTAINER, name, Buffer.from('{"n":1}\n'));
    await store.appendBlock(CONTAINER, name, Buffer.from('{"n":2}\n'));
    expect((await store.download(CONTAINER, name))?.toString()).toBe('{"n":1}\n{"n":2}\n');
    const blob = BlobServiceClient.fromConnectionString(connectionString())
      .getContainerClient(CONTAINER)
      .getAppendBlobClient(name);
    expect((await blob.getProperties()).contentType).toBe('application/x-ndjson');
  });

  it('sends Append Block on the REST path, once an append after the SDK created the blob', async () => {
    // The journal appends once per session and commit, as often as Put Block List: not through
    // the SDK pipeline (several times the CPU a request). The SDK creates the blob, once.
    let isCreated = false;
    const seen: string[] = [];
    const fake = await startFakeStorage((req, res) => {
      const via = String(req.headers['user-agent'] ?? '').includes('azsdk') ? 'sdk' : 'rest';
      const isAppend = (req.url ?? '').includes('comp=appendblock');
      seen.push(`${via} ${isAppend ? 'append' : 'create'}`);
      if (isAppend && !isCreated) {
        res.writeHead(404, { 'x-ms-error-code': 'BlobNotFound' });
        res.end();
        return;
      }
      isCreated = true;
      res.writeHead(201);
      res.end();
    });
    servers.push(fake.server);
    const journal = createAzureBlockStore({ connectionString: fakeConnection(fake.port) });
    await journal.appendBlock(CONTAINER, 'j.jsonl', Buffer.from('{"n":1}\n'));
    await journal.appendBlock(CONTAINER, 'j.jsonl', Buffer.from('{"n":2}\n'));
    expect(seen).toEqual(['rest append', 'sdk create', 'rest append', 'rest append']);
    expect(fake.requests.filter((r) => r.includes('comp=appendblock'))).toEqual(
      Array(3).fill(`PUT /devstoreaccount1/${CONTAINER}/j.jsonl?comp=appendblock`),
    );
  });

  it('refuses a block list naming a block storage never took, as a permanent 400 InvalidBlockList', async () => {
    const error = await rejection(
      store.commitBlockList(CONTAINER, 'invalid.raw', [id(9)], 'audio/wav'),
    );
    expect(error).toBeInstanceOf(StorageRequestError);
    expect(error).toMatchObject({ statusCode: 400, code: 'InvalidBlockList' });
    expect(isTransientStorageError(error)).toBe(false);

    const retried = await rejection(
      withRetries(store, { sleep: () => Promise.resolve() }).commitBlockList(
        CONTAINER,
        'invalid.raw',
        [id(9)],
        'audio/wav',
      ),
    );
    expect(retried).toBeInstanceOf(RecorderError);
    expect(retried).toMatchObject({ code: ErrorCode.StorageWriteFailed, retryable: false });
  });

  it('refuses a request signed with the wrong account key as a permanent 403', async () => {
    const blobPort = Number(new URL(/BlobEndpoint=([^;]+)/.exec(connectionString())![1]!).port);
    const wrongKey = Buffer.alloc(64, 7).toString('base64');
    const wrong = createAzureBlockStore({ connectionString: fakeConnection(blobPort, wrongKey) });
    const error = await rejection(wrong.stageBlock(CONTAINER, 'auth.raw', id(0), Buffer.from('x')));
    expect(error).toMatchObject({ statusCode: 403 });
    expect(isTransientStorageError(error)).toBe(false);
  });

  it.each([408, 429, 500, 503])(
    'treats an answer of %i as transient and carries the service error code',
    async (status) => {
      const fake = await startFakeStorage((_req, res) => {
        res.writeHead(status, {
          'x-ms-error-code': 'ServerBusy',
          'content-type': 'application/xml',
        });
        res.end('<?xml version="1.0" encoding="utf-8"?><Error><Code>ServerBusy</Code></Error>');
      });
      servers.push(fake.server);
      const busy = createAzureBlockStore({ connectionString: fakeConnection(fake.port) });
      for (const attempt of [
        busy.stageBlock(CONTAINER, 'b.raw', id(1), Buffer.from('x')),
        busy.commitBlockList(CONTAINER, 'b.raw', [id(1)], 'audio/wav'),
      ]) {
        const error = await rejection(attempt);
        expect(error).toMatchObject({ statusCode: status, code: 'ServerBusy' });
        expect(isTransientStorageError(error)).toBe(true);
      }
      expect(fake.requests).toEqual([
        `PUT /devstoreaccount1/${CONTAINER}/b.raw?comp=block&blockid=${encodeURIComponent(id(1))}`,
        `PUT /devstoreaccount1/${CONTAINER}/b.raw?comp=blocklist`,
      ]);
    },
  );

  it('treats a refused connection as transient (no status)', async () => {
    const fake = await startFakeStorage(() => undefined);
    const port = fake.port;
    await new Promise((resolve) => fake.server.close(resolve));
    const error = await rejection(
      createAzureBlockStore({ connectionString: fakeConnection(port) }).stageBlock(
        CONTAINER,
        'r.raw',
        id(0),
        Buffer.from('x'),
      ),
    );
    expect(error).toBeInstanceOf(TransportError);
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isTransientStorageError(error)).toBe(true);
  });

  it('treats a request storage never answers as a transient timeout', async () => {
    const fake = await startFakeStorage(() => undefined);
    servers.push(fake.server);
    const hung = createAzureBlockStore({
      connectionString: fakeConnection(fake.port),
      requestTimeoutInMs: 200,
    });
    for (const attempt of [
      hung.stageBlock(CONTAINER, 't.raw', id(0), Buffer.from('x')),
      hung.commitBlockList(CONTAINER, 't.raw', [id(0)], 'audio/wav'),
    ]) {
      const error = await rejection(attempt);
      expect(error).toBeInstanceOf(TransportError);
      expect(error).toMatchObject({ code: 'ETIMEDOUT' });
      expect(isTransientStorageError(error)).toBe(true);
    }
  });

  it('treats a connection reset before the answer as transient', async () => {
    const fake = await startFakeStorage((req) => req.socket.destroy());
    servers.push(fake.server);
    const error = await rejection(
      createAzureBlockStore({ connectionString: fakeConnection(fake.port) }).stageBlock(
        CONTAINER,
        'x.raw',
        id(0),
        Buffer.from('x'),
      ),
    );
    expect(error).toBeInstanceOf(TransportError);
    expect(isTransientStorageError(error)).toBe(true);
  });

  it('sends the SDK requests through the same keep-alive client: an SDK answer of 503 is transient', async () => {
    const fake = await startFakeStorage((_req, res) => {
      res.writeHead(503, { 'x-ms-error-code': 'ServerBusy' });
      res.end();
    });
    servers.push(fake.server);
    const error = await rejection(
      createAzureBlockStore({ connectionString: fakeConnection(fake.port) }).upload(
        CONTAINER,
        'm.json',
        Buffer.from('{}'),
        'application/json',
      ),
    );
    expect(error).toMatchObject({ statusCode: 503 });
    expect(isTransientStorageError(error)).toBe(true);
  });
});
