/**
 * The portal's daily work in a real browser against the local stack: the admin's analytics (and
 * their CSV), the search's server-side filters, a deletion asked for by one officer and decided by
 * another (two-person rule), and listening in to a live call with the audio arriving in WebAudio.
 * Screenshots go to test-artifacts/portal/. Needs NODE_EXTRA_CA_CERTS and /usr/bin/chromium.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import {
  TableArchiveRecordStore,
  archiveTableNames,
} from '../../functions/src/adapters/table-archive-stores';
import { startAzurite, type AzuriteInstance } from '../../local/src/azurite/azurite-process';
import { TENANT, USERS } from '../simulator/support/fixtures';
import {
  PORTAL_USERS,
  screenshot,
  seriousViolations,
  signIn,
  startPortalStack,
  type PortalStack,
} from './support/portal-stack';
import { scenarios } from './support/scenarios';
import { waitFor } from '../recorder/support/recorder-stack';

jest.setTimeout(180_000);

describe('portal operations in the browser', () => {
  let portal: PortalStack;
  let storage: AzuriteInstance;
  let sharedConnection: string | undefined;
  let recordedInteractionId: string;
  let calls: ReturnType<typeof scenarios>;

  beforeAll(async () => {
    storage = await startAzurite({ inMemory: true });
    sharedConnection = process.env.ATTEST_TEST_STORAGE_CONNECTION;
    process.env.ATTEST_TEST_STORAGE_CONNECTION = storage.connectionString;
    portal = await startPortalStack();
    calls = scenarios(portal);
    expect(
      (await portal.stack.control('PATCH', '/_sim/behaviour', { mediaPacing: 'realtime' })).status,
    ).toBe(200);
    const conversation = await calls.startCall({
      kind: 'p2p',
      durationInMs: 4000,
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          timeline: [{ atInMs: 0, action: 'speak', durationInMs: 3500 }],
        },
        { user: USERS.unrecorded, role: 'callee' },
      ],
    });
    const leg = await calls.legOf(conversation, (l) => l.recordingStatus === 'recording');
    const view = await calls.finished(leg.callId);
    recordedInteractionId = view.interaction!.interactionId;
    await calls.sealed(leg.callId);
  });

  afterAll(async () => {
    await portal?.close();
    process.env.ATTEST_TEST_STORAGE_CONNECTION = sharedConnection;
    await storage?.close();
  });

  const expectAccessible = async (page: Page) => {
    expect(await seriousViolations(page)).toEqual([]);
  };

  it('draws the admin’s analytics and downloads their numbers as CSV', async () => {
    const page = await signIn(portal, PORTAL_USERS.admin);
    await page.getByRole('tab', { name: 'Analytics' }).click();
    const summary = page.getByTestId('analytics-summary');
    await summary.waitFor({ timeout: 30_000 });
    expect(await summary.innerText()).toMatch(/Calls\s+1\b/);
    // Seven charts, each drawn on its canvas with its numbers in words beside it.
    await expect(page.locator('canvas').count()).resolves.toBe(7);
    await expect(page.getByRole('figure').count()).resolves.toBe(7);
    const drawn = await page
      .locator('canvas')
      .evaluateAll((els) => els.filter((c) => (c as { width: number }).width > 0).length);
    expect(drawn).toBe(7);
    await screenshot(page, 'analytics');
    await expectAccessible(page);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download CSV' }).click(),
    ]);
    const lines = readFileSync(await download.path(), 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(lines[0]).toMatch(/^day,calls,type:p2p,outcome:recorded,/);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.reduce((n, r) => n + Number(r[1]), 0)).toBe(1);
    await page.context().close();
  });

  it('filters the search on the server by participant and direction, with counts', async () => {
    const page = await signIn(portal, PORTAL_USERS.officer);
    await page.getByRole('tab', { name: 'Search' }).click();
    await page.getByRole('table', { name: 'Interactions' }).waitFor();
    await page.getByLabel('Participant').fill('Trader');
    await page.getByRole('combobox', { name: 'Direction' }).click();
    await page.getByRole('option', { name: 'Outbound' }).click();
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/participant=Trader/);
    const link = page.getByRole('link', {
      name: `Open interaction ${recordedInteractionId.slice(0, 8)}`,
    });
    await link.waitFor();
    await expect(page.getByTestId('search-counts').innerText()).resolves.toMatch(
      /^1 interaction · page 1 of 1/,
    );
    await screenshot(page, 'search');
    await expectAccessible(page);
    await page.getByLabel('Participant').fill('Nobody Of That Name');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No interaction you may see matches.').waitFor();
    await page.context().close();
  });

  it('listens in to a live call: the audio reaches WebAudio within a second', async () => {
    const conversation = await calls.startCall({
      kind: 'p2p',
      durationInMs: 45_000,
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          timeline: [{ atInMs: 0, action: 'speak', durationInMs: 45_000 }],
        },
        { user: USERS.unrecorded, role: 'callee' },
      ],
    });
    const leg = await calls.legOf(conversation, (l) => l.recordingStatus === 'recording');
    const page = await signIn(portal, PORTAL_USERS.officer);
    await page.getByRole('tab', { name: 'Live' }).click();
    const listen = page.getByRole('button', { name: `Listen to call ${leg.callId.slice(0, 8)}` });
    await listen.waitFor({ timeout: 30_000 });
    await listen.click();
    // A second of audio (50 frames of 20 ms) received, heard, and not queued behind the call.
    await page.waitForFunction(
      `(() => { const s = document.querySelector('[data-testid="listen-stats"]');
        return s !== null && Number(s.dataset.frames) >= 50 && Number(s.dataset.playedLevel) > 0; })()`,
      undefined,
      { timeout: 30_000 },
    );
    const stats = await page.getByTestId('listen-stats').evaluate((el) => ({
      ...(el as unknown as { dataset: Record<string, string> }).dataset,
    }));
    expect(Number(stats.receivedLevel)).toBeGreaterThan(0);
    expect(Number(stats.playedLevel)).toBeGreaterThan(0);
    expect(Number(stats.delayMs)).toBeLessThanOrEqual(1000);
    await expect(page.getByTestId('listen-state').innerText()).resolves.toBe('Listening');
    await screenshot(page, 'live');
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Stop listening' }).click();
    await page.getByTestId('listen-state').getByText('Stopped').waitFor();
    await page.context().close();
  });

  it('asks for a deletion as one officer and lets only a second one decide it', async () => {
    // Retention over: the recording's expiry moves into the past (as if its seven years were up).
    const records = TableArchiveRecordStore.fromConnectionString(
      storage.connectionString,
      archiveTableNames(process.env.ATTEST_ARCHIVE_TABLE_PREFIX),
    );
    const record = (await records.get(TENANT, recordedInteractionId))!;
    await records.upsert(
      {
        ...record,
        interaction: { ...record.interaction, expiresAt: '2020-01-01T00:00:00.000Z' },
      },
      { previous: record },
    );

    const requester = await signIn(portal, PORTAL_USERS.officer);
    await requester.goto(`${portal.portalUrl}search/${TENANT}/${recordedInteractionId}`);
    await requester.getByRole('button', { name: 'Request deletion' }).click();
    await requester.getByText('Deletion requested.').waitFor();
    await requester.getByRole('tab', { name: 'Dispositions' }).click();
    const own = requester.getByRole('row', { name: new RegExp(recordedInteractionId.slice(0, 8)) });
    await own.waitFor({ timeout: 30_000 });
    await expect(own.innerText()).resolves.toContain('You asked for this deletion');
    await expect(own.getByRole('button').count()).resolves.toBe(0);
    await requester.context().close();

    const second = await signIn(portal, PORTAL_USERS.secondOfficer);
    await second.getByRole('tab', { name: 'Dispositions' }).click();
    const reject = second.getByRole('button', {
      name: `Reject deletion of ${recordedInteractionId.slice(0, 8)}`,
    });
    await reject.waitFor({ timeout: 30_000 });
    await expect(
      second
        .getByRole('button', { name: `Approve deletion of ${recordedInteractionId.slice(0, 8)}` })
        .count(),
    ).resolves.toBe(1);
    await screenshot(second, 'dispositions');
    await expectAccessible(second);
    await reject.click();
    await second.getByText('Rejected: kept').waitFor();
    await second.context().close();
    // The workflow records the rejection; the interaction stays.
    await waitFor(
      async () =>
        (await records.get(TENANT, recordedInteractionId))?.state === 'dispositionRejected'
          ? true
          : undefined,
      'the rejection to be recorded',
    );
  });
});
