/**
 * The portal's media routes (manifest, playback plan, stored bytes): each answers only for an
 * interaction of the caller's tenant and scope, and writes one `accessed` ledger entry.
 */
import type { LedgerEntryDraft, RecordingManifest } from '@attest/core';
import { createPortalMediaHandlers } from '../../functions/src/http/portal-media.http';
import type { FakeUser } from '../support/admin-access-fake';
import { fakeAdminAccess } from '../support/admin-access-fake';
import { manifestKeys } from './archive-fixtures';
import { callRoute, createAdminHarness, type RouteCall } from './archive-admin-harness';

const users: Record<string, FakeUser> = {
  auditor: { roles: ['auditor'], tenantId: 'tenant-1' },
  nobody: { roles: [], tenantId: 'tenant-1' },
  stranger: { roles: ['auditor'], tenantId: 'tenant-2' },
};
const trader = { tenantId: 'tenant-1', interactionId: 'int-t1' };
const unsealed = { tenantId: 'tenant-1', interactionId: 'int-unsealed' };
const MANIFEST_PEM = manifestKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

async function portal() {
  const { harness } = await createAdminHarness('2030-01-01T00:00:00.000Z', users, [
    ['tenant-1', 'int-t1', 'user-trader', '2030-01-01T09:00:00.000Z'],
  ]);
  // An archived interaction whose manifest was never stored.
  const record = (await harness.records.get('tenant-1', 'int-t1'))!;
  await harness.records.upsert({
    ...record,
    interaction: { ...record.interaction, interactionId: 'int-unsealed' },
  });
  const { access, entries } = fakeAdminAccess(users);
  const handlers = createPortalMediaHandlers({
    access,
    records: harness.records,
    blobs: harness.blobs,
    manifestPublicKeyPem: () => Promise.resolve(MANIFEST_PEM),
    interactionPublicKeyPem: () => Promise.resolve(undefined),
  });
  const call = async (route: keyof typeof handlers, request: RouteCall) => {
    const response = await callRoute(handlers[route], request);
    return { ...response, jsonBody: response.jsonBody as Record<string, unknown> | undefined };
  };
  return { call, entries, blobs: harness.blobs };
}

const details = (entry: LedgerEntryDraft | undefined) => entry?.details as Record<string, unknown>;

describe('portal media routes', () => {
  it('answers the stored manifest bytes, their signature and the key to check them', async () => {
    const { call, entries, blobs } = await portal();
    const response = await call('manifest', { user: 'auditor', params: trader });
    expect(response.status).toBe(200);
    const stored = await blobs.readRecordingBlob('tenant-1/int-t1/manifest.json');
    expect(response.jsonBody?.manifestBase64).toBe(stored!.toString('base64'));
    expect(response.jsonBody?.signature).not.toBeNull();
    expect(response.jsonBody?.publicKeyPem).toBe(MANIFEST_PEM);
    expect(entries).toHaveLength(1);
    expect(details(entries[0])).toMatchObject({ action: 'playback', part: 'manifest' });
  });

  it('answers a playback plan with a lane per stream', async () => {
    const { call, entries } = await portal();
    const response = await call('playback', { user: 'auditor', params: trader });
    expect(response.status).toBe(200);
    expect(JSON.stringify(response.jsonBody)).toContain('audio-11');
    expect(details(entries[0])).toMatchObject({ action: 'playback', part: 'plan' });
  });

  it('answers a range of a stream stored bytes and records the range', async () => {
    const { call, entries, blobs } = await portal();
    const response = await call('stored', {
      user: 'auditor',
      params: { ...trader, streamId: 'audio-11' },
      headers: { range: 'bytes=0-9' },
    });
    expect(response.status).toBe(206);
    const manifest = JSON.parse(
      (await blobs.readRecordingBlob('tenant-1/int-t1/manifest.json'))!.toString('utf8'),
    ) as RecordingManifest;
    const stream = manifest.streams.find((s) => s.streamId === 'audio-11')!;
    const storedBytes = (await blobs.readRecordingBlob(stream.blobName))!;
    expect(Buffer.from(response.body as Uint8Array)).toEqual(storedBytes.subarray(0, 10));
    expect(details(entries[0])).toMatchObject({
      part: 'stored',
      streamId: 'audio-11',
      range: 'bytes=0-9',
    });
  });

  it.each(['manifest', 'playback', 'stored'] as const)(
    'refuses %s to a caller without the playback role and records the refusal',
    async (route) => {
      const { call, entries } = await portal();
      const response = await call(route, {
        user: 'nobody',
        params: { ...trader, streamId: 'audio-11' },
      });
      expect(response.status).toBe(403);
      expect(entries).toHaveLength(1);
      expect(String(details(entries[0])?.outcome)).toMatch(/^denied:/);
    },
  );

  it.each(['manifest', 'playback', 'stored'] as const)(
    'answers %s 404 for an interaction of another tenant',
    async (route) => {
      const { call } = await portal();
      const response = await call(route, {
        user: 'stranger',
        params: { ...trader, streamId: 'audio-11' },
      });
      expect(response.status).toBe(404);
    },
  );

  it.each(['manifest', 'playback'] as const)(
    'answers %s 404 for an interaction without a sealed manifest',
    async (route) => {
      const { call } = await portal();
      const response = await call(route, { user: 'auditor', params: unsealed });
      expect(response.status).toBe(404);
      expect(response.jsonBody?.message).toBe('this interaction has no sealed manifest');
    },
  );

  it('answers 404 for a stream the manifest does not list', async () => {
    const { call } = await portal();
    const response = await call('stored', {
      user: 'auditor',
      params: { ...trader, streamId: 'audio-99' },
    });
    expect(response.status).toBe(404);
    expect(response.jsonBody?.message).toBe('stream audio-99 has no stored media');
  });
});
