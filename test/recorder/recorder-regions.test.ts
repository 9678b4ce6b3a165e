/**
 * Data stays in its region: two regions, each with its own recordings account (here its own
 * storage emulator) and its own media host. A call whose media is in West Europe is recorded in
 * West Europe's account and nowhere else, one in North Europe in North Europe's; the archive
 * (ATTEST_STORAGE_REGIONS) finds both in a search and plays both back.
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { TENANT } from '../simulator/support/fixtures';
import { startFleetStack, type FleetStack } from './support/fleet-stack';

describe('recordings kept in their region', () => {
  let fleet: FleetStack;

  beforeAll(async () => {
    fleet = await startFleetStack({ regions: ['westeurope', 'northeurope'] });
  }, 120_000);
  afterAll(async () => {
    await fleet?.close();
  });

  const blobsIn = async (region: string, interactionId: string): Promise<string[]> => {
    const container = BlobServiceClient.fromConnectionString(
      fleet.storageOf(region),
    ).getContainerClient(fleet.recordingsContainer);
    const names: string[] = [];
    if (!(await container.exists())) return names;
    for await (const blob of container.listBlobsFlat({ prefix: `${TENANT}/${interactionId}/` }))
      names.push(blob.name);
    return names;
  };

  it("stores each call in its region's account, and the archive searches and plays back both", async () => {
    const west = await fleet.startHost({ region: 'westeurope', zone: '1' });
    const north = await fleet.startHost({ region: 'northeurope', zone: '1' });
    const [westLeg, northLeg] = await Promise.all([
      fleet.traderCalls('EUWE', 8000).then((c) => fleet.recordedLeg(c)),
      fleet.traderCalls('EUNO', 8000).then((c) => fleet.recordedLeg(c)),
    ]);
    const [westCall, northCall] = await Promise.all([
      fleet.finished(westLeg.callId),
      fleet.finished(northLeg.callId),
    ]);
    expect(westCall.interaction).toMatchObject({
      outcome: 'recorded',
      mediaHostId: west.hostId,
      region: 'westeurope',
    });
    expect(northCall.interaction).toMatchObject({
      outcome: 'recorded',
      mediaHostId: north.hostId,
      region: 'northeurope',
    });
    const westId = String(westCall.interaction?.interactionId);
    const northId = String(northCall.interaction?.interactionId);

    // Each recording (media and manifest) is in its own region's account only.
    expect(await blobsIn('westeurope', westId)).toEqual(
      expect.arrayContaining([expect.stringMatching(/manifest/)]),
    );
    expect(await blobsIn('northeurope', westId)).toEqual([]);
    expect(await blobsIn('northeurope', northId)).toEqual(
      expect.arrayContaining([expect.stringMatching(/manifest/)]),
    );
    expect(await blobsIn('westeurope', northId)).toEqual([]);

    const token = await fleet.officerToken();
    const search = await fleet.stack.api<{ items: { interactionId: string }[] }>(
      'GET',
      `/api/archive/interactions?from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`,
      { token },
    );
    expect(search.status).toBe(200);
    expect(search.body.items.map((i) => i.interactionId)).toEqual(
      expect.arrayContaining([westId, northId]),
    );

    for (const [call, id] of [
      [westCall, westId],
      [northCall, northId],
    ] as const) {
      const stream = call.streams[0];
      expect(stream).toBeDefined();
      const response = await fetch(
        `${fleet.stack.baseUrl}/api/archive/interactions/${TENANT}/${id}/streams/${stream?.streamId ?? ''}`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      expect(response.status).toBe(200);
      const played = Buffer.from(await response.arrayBuffer());
      expect(played.length).toBeGreaterThan(0);
    }
    for (const entry of [west, north]) await entry.host.close();
  });
});
