/** The archive admin API: exports (data subject packages, resume by id, tenant isolation). */
import { verifyExport } from '../../functions/src/cli/verify-export';
import { responseBytes, unzipPackage } from '../support/export-download';
import { call, setup } from './archive-admin-setup';

describe('archive admin API', () => {
  it('exports a data subject package that verifies, followed through the status route', async () => {
    const { handlers, jobs } = await setup();
    const { response } = await call(handlers.subjectExport, {
      method: 'POST',
      user: 'officer',
      params: { userId: 'user-trader' },
    });
    expect(response).toMatchObject({
      status: 202,
      headers: { location: '/api/archive/exports/id-1' },
      jsonBody: { exportId: 'id-1', state: 'running', statusUri: '/api/archive/exports/id-1' },
    });
    expect(
      (await call(handlers.exportStatus, { user: 'officer', params: { exportId: 'id-1' } }))
        .response,
    ).toMatchObject({ status: 200, jsonBody: { state: 'running' } });
    await jobs.runAll();
    const { response: done } = await call(handlers.exportStatus, {
      user: 'officer',
      params: { exportId: 'id-1' },
    });
    expect(done).toMatchObject({
      status: 200,
      jsonBody: { state: 'completed', progress: { phase: 'done', done: 1, total: 1 } },
    });
    const result = (done.jsonBody as { result: { interactionCount: number } }).result;
    expect(result.interactionCount).toBe(1);
    const download = await call(handlers.exportDownload, {
      user: 'officer',
      params: { exportId: 'id-1' },
    });
    const dir = await unzipPackage(await responseBytes(download.response.body), 'id-1');
    expect((await verifyExport(dir)).failures).toEqual([]);
  });

  it("resumes an export by its id, never runs one twice at once, and hides other tenants' exports", async () => {
    const { harness, handlers, jobs } = await setup();
    await call(handlers.export, { method: 'POST', user: 'officer', body: { query: {} } });
    const again = await call(handlers.export, {
      method: 'POST',
      user: 'officer',
      body: { query: {}, exportId: 'id-1' },
    });
    expect(again.response).toMatchObject({
      status: 202,
      jsonBody: { exportId: 'id-1', isAlreadyRunning: true },
    });
    expect(harness.ledger.entries.at(-1)).toMatchObject({
      kind: 'accessed',
      details: { action: 'export', outcome: 'alreadyRunning' },
    });
    expect(
      (
        await call(handlers.export, {
          method: 'POST',
          user: 'officer',
          body: { query: {}, exportId: 'never-started' },
        })
      ).response,
    ).toMatchObject({ status: 404 });
    jobs.jobs.set('other', {
      request: { exportId: 'other', createdBy: 'x', tenantId: 'tenant-2' },
      status: { exportId: 'other', state: 'running', tenantId: 'tenant-2' },
    });
    expect(
      (await call(handlers.exportStatus, { user: 'officer', params: { exportId: 'other' } }))
        .response,
    ).toMatchObject({ status: 404, jsonBody: { code: 'ATT_NOT_FOUND' } });
    expect(
      (await call(handlers.exportStatus, { user: 'auditor', params: { exportId: 'id-1' } }))
        .response,
    ).toMatchObject({ status: 403 });
    expect(
      (await call(handlers.exportStatus, { user: 'officer', params: { exportId: '../x' } }))
        .response,
    ).toMatchObject({ status: 400 });
  });

  it('refuses an export id that could leave the export folder', async () => {
    const { handlers } = await setup();
    const { response } = await call(handlers.export, {
      method: 'POST',
      user: 'officer',
      body: { query: {}, exportId: '../../etc' },
    });
    expect(response).toMatchObject({
      status: 400,
      jsonBody: {
        code: 'ATT_INVALID_REQUEST',
        message: 'exportId must be 1 to 64 letters, digits or dashes',
      },
    });
  });
});
