/**
 * Export packages live in a blob container (Azurite here), never on the function host's disk,
 * and leave it only through `GET archive/exports/{exportId}/download`: the officer who made the
 * export gets the zip, streamed; it unzips into a package that `attest verify` passes. Everyone
 * else is refused and recorded.
 */
import { BlobServiceClient } from '@azure/storage-blob';
import { BlobExportPackageStore } from '../../functions/src/adapters/blob-export-packages';
import { verifyExport } from '../../functions/src/cli/verify-export';
import { responseBytes, unzipPackage } from '../support/export-download';
import { callRoute, createAdminHarness, type AdminHarness } from './archive-admin-harness';

const connection = (): string => {
  const value = process.env.ATTEST_TEST_STORAGE_CONNECTION;
  if (value === undefined)
    throw new Error(
      'ATTEST_TEST_STORAGE_CONNECTION is not set: run through the integration project',
    );
  return value;
};

const users = {
  officer: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-1', groups: ['g-all'] },
  officer2: { roles: ['Attest.ComplianceOfficer'], tenantId: 'tenant-1', groups: ['g-all'] },
  auditor: { roles: ['Attest.Auditor'], tenantId: 'tenant-1' },
};
let counter = 0;

async function setup(): Promise<
  AdminHarness & { containerName: string; service: BlobServiceClient }
> {
  const service = BlobServiceClient.fromConnectionString(connection());
  const containerName = `exp${process.pid}t${Date.now().toString(36)}n${(counter += 1)}`;
  const admin = await createAdminHarness(
    '2030-01-01T00:00:00.000Z',
    users,
    [
      ['tenant-1', 'int-1', 'user-a', '2030-01-01T09:00:00.000Z'],
      ['tenant-1', 'int-2', 'user-b', '2030-01-01T10:00:00.000Z'],
    ],
    { 'g-all': ['*'] },
    { packages: new BlobExportPackageStore(service, containerName) },
  );
  return { ...admin, containerName, service };
}

async function startExport(admin: AdminHarness): Promise<string> {
  const started = await callRoute(admin.handlers.export, {
    method: 'POST',
    user: 'officer',
    body: { query: {} },
  });
  expect(started.status).toBe(202);
  return (started.jsonBody as { exportId: string }).exportId;
}

describe('export packages in blob storage, out through the download route', () => {
  it('writes the package to the exports container and the downloaded zip passes attest verify', async () => {
    const admin = await setup();
    const exportId = await startExport(admin);
    await admin.jobs.runAll();

    const names: string[] = [];
    for await (const blob of admin.service
      .getContainerClient(admin.containerName)
      .listBlobsFlat({ prefix: `tenant-1/${exportId}/` }))
      names.push(blob.name);
    expect(names).toContain(`tenant-1/${exportId}/export.json`);
    expect(names).toContain(`tenant-1/${exportId}/interactions/tenant-1/int-1/media/audio-11.bin`);
    expect(names.some((n) => n.includes('/.'))).toBe(false);

    const status = await callRoute(admin.handlers.exportStatus, {
      user: 'officer',
      params: { exportId },
    });
    expect(status.jsonBody).toMatchObject({
      state: 'completed',
      downloadUri: `/api/archive/exports/${exportId}/download`,
      result: { interactionCount: 2 },
    });
    expect(JSON.stringify(status.jsonBody)).not.toMatch(/outputDir|\/tmp|\.data/);

    const before = admin.harness.ledger.entries.length;
    const download = await callRoute(admin.handlers.exportDownload, {
      user: 'officer',
      params: { exportId },
    });
    expect(download.status).toBe(200);
    expect(download.headers).toMatchObject({
      'content-type': 'application/zip',
      'content-disposition': `attachment; filename="attest-export-${exportId}.zip"`,
    });
    const dir = await unzipPackage(await responseBytes(download.body), exportId);
    const report = await verifyExport(dir);
    expect(report.failures).toEqual([]);
    expect(report.interactionCount).toBe(2);
    expect(admin.harness.ledger.entries.slice(before)).toEqual([
      expect.objectContaining({
        kind: 'accessed',
        actor: 'officer',
        tenantId: 'tenant-1',
        subjectType: 'export',
        subjectId: exportId,
        details: expect.objectContaining({ action: 'export', outcome: 'downloaded' }),
      }),
    ]);
  });

  it('answers 409 while the export is still running', async () => {
    const admin = await setup();
    const exportId = await startExport(admin);
    const download = await callRoute(admin.handlers.exportDownload, {
      user: 'officer',
      params: { exportId },
    });
    expect(download).toMatchObject({ status: 409, jsonBody: { code: 'ATT_CONFLICT' } });
  });

  it('refuses another officer of the tenant and an auditor, with a ledger entry each', async () => {
    const admin = await setup();
    const exportId = await startExport(admin);
    await admin.jobs.runAll();
    const before = admin.harness.ledger.entries.length;
    for (const user of ['officer2', 'auditor']) {
      const response = await callRoute(admin.handlers.exportDownload, {
        user,
        params: { exportId },
      });
      expect(response.status).toBe(403);
      expect(response.body).toBeUndefined();
    }
    expect(
      admin.harness.ledger.entries.slice(before).map((e) => [e.actor, e.details.outcome]),
    ).toEqual([
      ['officer2', 'denied:notCreator'],
      ['auditor', 'denied:noRole'],
    ]);
  });

  it('answers 404 when the package is no longer in storage', async () => {
    const admin = await setup();
    const exportId = await startExport(admin);
    await admin.jobs.runAll();
    await admin.packages.delete({ tenantId: 'tenant-1', exportId }, 'export.json');
    const response = await callRoute(admin.handlers.exportDownload, {
      user: 'officer',
      params: { exportId },
    });
    expect(response).toMatchObject({ status: 404, jsonBody: { code: 'ATT_NOT_FOUND' } });
  });
});
