/**
 * The archive across two regions end to end: calls recorded in West Europe's and North Europe's
 * own accounts (ATTEST_STORAGE_REGIONS) are held by one legal hold, which protects both (a
 * deletion of either is refused); an export of the hold holds both and passes `attest verify`,
 * and a flipped media byte of either is named. Retention, with the archive's own clock: the sweep
 * deletes each expired recording from the account it is in and leaves a held one in its account.
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '@attest/core';
import { BlobArchiveMediaStore } from '../../functions/src/adapters/blob-archive-media';
import { RegionalRecordingBlobStore } from '../../functions/src/adapters/regional-archive-media';
import {
  createRetentionSweep,
  type DispositionStarter,
} from '../../functions/src/timers/retention-sweep.timer';
import {
  createHarness,
  DAY_IN_MS,
  runDisposition,
  writeSealedRecording,
} from '../archive/archive-fixtures';
import { verifyExport } from '../../functions/src/cli/verify-export';
import { unzipPackage } from '../support/export-download';
import { TENANT } from '../simulator/support/fixtures';
import { startFleetStack, type FleetStack } from './support/fleet-stack';
import { waitFor } from './support/recorder-stack';

jest.setTimeout(180_000);

describe('the archive across two regions', () => {
  let fleet: FleetStack;
  const ids: Record<string, string> = {};
  let token: string;

  beforeAll(async () => {
    fleet = await startFleetStack({ regions: ['westeurope', 'northeurope'] });
    const west = await fleet.startHost({ region: 'westeurope', zone: '1' });
    const north = await fleet.startHost({ region: 'northeurope', zone: '1' });
    const [westLeg, northLeg] = await Promise.all([
      fleet.traderCalls('EUWE', 6000).then((c) => fleet.recordedLeg(c)),
      fleet.traderCalls('EUNO', 6000).then((c) => fleet.recordedLeg(c)),
    ]);
    const [westCall, northCall] = await Promise.all([
      fleet.finished(westLeg.callId),
      fleet.finished(northLeg.callId),
    ]);
    expect(westCall.interaction).toMatchObject({ outcome: 'recorded', mediaHostId: west.hostId });
    expect(northCall.interaction).toMatchObject({ outcome: 'recorded', mediaHostId: north.hostId });
    ids.westeurope = String(westCall.interaction?.interactionId);
    ids.northeurope = String(northCall.interaction?.interactionId);
    token = await fleet.officerToken();
    // Both sealed in the archive before the tests act on them.
    for (const id of Object.values(ids))
      await waitFor(async () => {
        const view = await fleet.stack.api<{ interaction: { manifestSha256?: string } }>(
          'GET',
          `/api/archive/interactions/${TENANT}/${id}`,
          { token },
        );
        return view.status === 200 && view.body.interaction.manifestSha256 !== undefined
          ? true
          : undefined;
      }, `interaction ${id} in the archive`);
  }, 240_000);
  afterAll(async () => {
    await fleet?.close();
  });

  const api = <T>(method: string, path: string, body?: unknown) =>
    fleet.stack.api<T>(method, path, { token, ...(body === undefined ? {} : { body }) });
  const blobsIn = async (region: string, interactionId: string): Promise<string[]> => {
    const container = BlobServiceClient.fromConnectionString(
      fleet.storageOf(region),
    ).getContainerClient(fleet.recordingsContainer);
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: `${TENANT}/${interactionId}/` }))
      names.push(blob.name);
    return names;
  };

  let holdId: string;

  it('protects the recordings of both regions with one hold: deleting either is refused and nothing is removed', async () => {
    const placed = await api<{ holdId: string }>('POST', '/api/archive/holds', {
      matterId: 'MATTER-REGIONS-1',
      description: 'two regions',
      scope: { interactionIds: [ids.westeurope, ids.northeurope] },
    });
    expect(placed.status).toBe(201);
    holdId = placed.body.holdId;
    for (const [region, id] of Object.entries(ids)) {
      const before = await blobsIn(region, id);
      expect(before.length).toBeGreaterThan(1);
      const refused = await api<{ code: string }>(
        'DELETE',
        `/api/archive/interactions/${TENANT}/${id}`,
      );
      expect({ region, status: refused.status, code: refused.body.code }).toEqual({
        region,
        status: 409,
        code: ErrorCode.LegalHold,
      });
      expect(await blobsIn(region, id)).toEqual(before);
    }
  });

  it("exports the hold with both regions' recordings, and the package passes attest verify", async () => {
    const started = await api<{ exportId: string }>('POST', '/api/archive/exports', { holdId });
    expect(started.status).toBe(202);
    const { exportId } = started.body;
    await waitFor(
      async () => {
        const status = await api<{ state: string; error?: string }>(
          'GET',
          `/api/archive/exports/${exportId}`,
        );
        if (status.body.state === 'failed') throw new Error(`export failed: ${status.body.error}`);
        return status.body.state === 'completed' ? true : undefined;
      },
      'the export',
      120_000,
    );
    const download = await fetch(
      `${fleet.stack.baseUrl}/api/archive/exports/${exportId}/download`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(download.status).toBe(200);
    const dir = await unzipPackage(Buffer.from(await download.arrayBuffer()), exportId);
    const index = JSON.parse(readFileSync(join(dir, 'export.json'), 'utf8')) as {
      interactions: { interactionId: string }[];
    };
    expect(index.interactions.map((i) => i.interactionId).sort()).toEqual(
      [ids.westeurope, ids.northeurope].sort(),
    );
    const clean = await verifyExport(dir);
    expect(clean.failures).toEqual([]);
    expect(clean.isValid).toBe(true);

    // Each region's media is in the package as stored: a flipped byte is named where it is.
    for (const id of Object.values(ids)) {
      const mediaDir = join(dir, 'interactions', TENANT, id, 'media');
      const media = join(mediaDir, readdirSync(mediaDir)[0]!);
      const bytes = readFileSync(media);
      const flipped = Buffer.from(bytes);
      flipped[0] = (flipped[0] ?? 0) ^ 0xff;
      writeFileSync(media, flipped);
      const report = await verifyExport(dir);
      expect(report.isValid).toBe(false);
      expect(report.failures).toEqual([
        expect.objectContaining({
          location: expect.stringMatching(
            new RegExp(`^interaction ${TENANT}/${id} stream \\S+ block 0$`),
          ),
        }),
      ]);
      writeFileSync(media, bytes);
    }
  });

  describe('retention across two regions', () => {
    const recordings = `ret${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    const keys = `${recordings}k`;
    const T0 = '2030-01-01T00:00:00.000Z';

    const serviceOf = (region: string) =>
      BlobServiceClient.fromConnectionString(fleet.storageOf(region));
    const namesIn = async (region: string, container: string, interactionId: string) => {
      const names: string[] = [];
      for await (const blob of serviceOf(region)
        .getContainerClient(container)
        .listBlobsFlat({ prefix: `tenant-1/${interactionId}` }))
        names.push(blob.name);
      return names;
    };

    it("deletes each expired recording in its own region's account and keeps a held one in its account", async () => {
      const stores = ['westeurope', 'northeurope'].map((region) => ({
        region,
        store: new BlobArchiveMediaStore(serviceOf(region), {
          recordingsContainer: recordings,
          keysContainer: keys,
          isImmutabilitySupported: false,
        }),
      }));
      for (const region of ['westeurope', 'northeurope'])
        for (const container of [recordings, keys])
          await serviceOf(region).getContainerClient(container).createIfNotExists();
      const harness = createHarness(T0, new RegionalRecordingBlobStore(stores));
      const writerOf = (region: string) => ({
        putRecording: async (name: string, data: Buffer) =>
          void (await serviceOf(region)
            .getContainerClient(recordings)
            .getBlockBlobClient(name)
            .uploadData(data)),
        putKey: async (name: string, data: Buffer) =>
          void (await serviceOf(region)
            .getContainerClient(keys)
            .getBlockBlobClient(name)
            .uploadData(data)),
      });
      const placed = {
        'int-west': 'westeurope',
        'int-north': 'northeurope',
        'int-held': 'northeurope',
      };
      for (const [interactionId, region] of Object.entries(placed)) {
        const fixture = await writeSealedRecording(writerOf(region), {
          tenantId: 'tenant-1',
          interactionId,
          recordedUserIds: [interactionId === 'int-held' ? 'user-held' : 'user-a'],
          invitedAt: T0,
        });
        await harness.activities.recordSealed(fixture.interaction);
      }
      await harness.activities.placeHold({
        tenantId: 'tenant-1',
        holdId: 'hold-regions',
        matterId: 'M-REGIONS',
        description: 'd',
        custodian: 'c',
        scope: { recordedUserIds: ['user-held'] },
        actor: 'officer-1',
      });
      for (const [interactionId, region] of Object.entries(placed))
        expect((await namesIn(region, recordings, interactionId)).length).toBeGreaterThan(0);

      // Past the 30-day class: the sweep starts the dispositions and each runs to its end.
      harness.clock.set(Date.parse('2030-03-01T02:00:00.000Z'));
      const started: string[] = [];
      const starter: DispositionStarter = {
        async startIfIdle(_instanceId, input) {
          started.push(input.interactionId);
          await runDisposition(harness, input);
          return 'started';
        },
      };
      const summary = await createRetentionSweep({
        records: harness.records,
        holds: harness.holds,
        starter,
        clock: harness.clock,
        settings: { approvalTimeoutInMs: DAY_IN_MS, reminderIntervalInMs: DAY_IN_MS },
      })();
      expect(summary).toMatchObject({ started: 2, held: 1 });
      expect(started.sort()).toEqual(['int-north', 'int-west']);
      for (const id of ['int-west', 'int-north']) {
        expect((await harness.records.get('tenant-1', id))?.state).toBe('deleted');
        for (const region of ['westeurope', 'northeurope']) {
          expect({ id, region, media: await namesIn(region, recordings, id) }).toEqual({
            id,
            region,
            media: [],
          });
          expect(await namesIn(region, keys, id)).toEqual([]);
        }
      }
      // The held recording stays whole in North Europe's account.
      expect((await harness.records.get('tenant-1', 'int-held'))?.state).toBe('active');
      expect((await namesIn('northeurope', recordings, 'int-held')).length).toBeGreaterThan(0);
      expect(await harness.blobs.readWrappedKey('tenant-1', 'int-held')).toBeDefined();
    });
  });
});
