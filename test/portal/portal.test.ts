/**
 * The portal in a real browser (Debian's Chromium through playwright-core) against the local
 * stack after real scenarios: sign-in per role through the simulator's Entra, every page with real
 * data, playback verified in the browser, holds, exports, the audit ledger, scope. Saves a
 * screenshot of every page in test-artifacts/portal/. Needs NODE_EXTRA_CA_CERTS and /usr/bin/chromium
 * (`.ci/run` installs it).
 */
import { readFileSync } from 'node:fs';
import { BlobServiceClient } from '@azure/storage-blob';
import { startAzurite, type AzuriteInstance } from '../../local/src/azurite/azurite-process';
import type { Page } from 'playwright-core';
import { verifyExport } from '../../functions/src/cli/verify-export';
import { unzipPackage } from '../support/export-download';
import { TENANT, USERS } from '../simulator/support/fixtures';
import { waitFor } from '../recorder/support/recorder-stack';
import { CONTROL_KEY } from '../media-host/media-host-fixtures';
import {
  PORTAL_USERS,
  screenshot,
  seriousViolations,
  signIn,
  startPortalStack,
  type PortalStack,
} from './support/portal-stack';
import { scenarios } from './support/scenarios';
import { loopDistance, shownPicture, type ShownPicture } from './support/video-frames';

type Scenarios = ReturnType<typeof scenarios>;

jest.setTimeout(180_000);

/** In-page condition (a string: the test project has no DOM types): some lane's audio is past `seconds`. */
const audioPastExpression = (seconds: number) =>
  `[...document.querySelectorAll('audio')].some((a) => a.currentTime > ${seconds})`;

describe('portal in the browser', () => {
  let portal: PortalStack;
  let recordedCallId: string;
  let recordedInteractionId: string;
  let failedCallId: string;

  let startCall: Scenarios['startCall'];
  let legOf: Scenarios['legOf'];
  let callView: Scenarios['callView'];
  let finished: Scenarios['finished'];
  let sealed: Scenarios['sealed'];

  // Storage of its own: the suite places calls (one answered busy) that the recorder suites'
  // tenant-wide call lists in the shared emulator must not see.
  let storage: AzuriteInstance;
  let sharedConnection: string | undefined;

  beforeAll(async () => {
    storage = await startAzurite({ inMemory: true });
    sharedConnection = process.env.ATTEST_TEST_STORAGE_CONNECTION;
    process.env.ATTEST_TEST_STORAGE_CONNECTION = storage.connectionString;
    portal = await startPortalStack();
    ({ startCall, legOf, callView, finished, sealed } = scenarios(portal));
    // Real-time media: platform timestamps then follow the wall clock that gaps are measured in.
    expect(
      (await portal.stack.control('PATCH', '/_sim/behaviour', { mediaPacing: 'realtime' })).status,
    ).toBe(200);
    // A recorded call with a PCI pause in the middle: a real gap with its reason.
    const recorded = await startCall({
      kind: 'p2p',
      durationInMs: 15_000,
      participants: [
        {
          user: USERS.trader,
          role: 'caller',
          timeline: [
            { atInMs: 0, action: 'speak', durationInMs: 14_500 },
            { atInMs: 0, action: 'videoOn' },
          ],
        },
        {
          user: USERS.unrecorded,
          role: 'callee',
          timeline: [
            { atInMs: 500, action: 'speak', durationInMs: 14_000 },
            { atInMs: 0, action: 'shareOn' },
          ],
        },
      ],
    });
    const leg = await legOf(recorded, (l) => l.recordingStatus === 'recording');
    recordedCallId = leg.callId;
    const session = await waitFor(
      async () => (await callView(recordedCallId)).body.interaction?.mediaSessionId,
      'the media session id',
    );
    const controlUrl = portal.stack.media!.controlUrl;
    const sessionControl = (action: string, body: unknown) =>
      fetch(`${controlUrl}/v1/sessions/${session}/${action}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CONTROL_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    // Pause once the session persists (it answers 409 before), about a second into the call.
    await new Promise((r) => setTimeout(r, 1000));
    const pauseStarted = Date.now();
    const paused = await waitFor(async () => {
      const answer = await sessionControl('pause', { reason: 'pci', actor: 'agent-desktop' });
      return answer.status < 300
        ? true
        : answer.status === 409 && (await answer.text()).includes('sealed')
          ? false
          : undefined;
    }, 'the session to accept a pause');
    expect({ paused, afterInMs: Date.now() - pauseStarted }).toEqual({
      paused: true,
      afterInMs: expect.any(Number),
    });
    await new Promise((r) => setTimeout(r, 1200));
    const resumed = await sessionControl('resume', { actor: 'agent-desktop' });
    expect(`${resumed.status} ${await resumed.text()}`).toMatch(/^2/);
    const view = await finished(recordedCallId);
    recordedInteractionId = view.interaction!.interactionId;
    await sealed(recordedCallId);

    // A call no media host could take: drained, the recorder answers busy.
    const hostId = portal.stack.media!.hostId;
    const drain = (isDraining: boolean) =>
      portal.stack.api('POST', `/api/mediahosts/${hostId}/drain`, {
        token: portal.adminToken,
        body: { isDraining },
      });
    expect((await drain(true)).status).toBe(200);
    const busy = await startCall({
      kind: 'p2p',
      durationInMs: 2000,
      participants: [
        { user: USERS.trader, role: 'caller' },
        { user: USERS.unrecorded, role: 'callee' },
      ],
    });
    failedCallId = (await legOf(busy, () => true)).callId;
    await waitFor(
      async () => {
        const v = await callView(failedCallId);
        return v.status === 200 &&
          v.body.interaction !== undefined &&
          v.body.interaction.outcome !== 'inProgress'
          ? true
          : undefined;
      },
      'the busy call to be recorded as such',
      30_000,
    );
    expect((await drain(false)).status).toBe(200);
  });

  afterAll(async () => {
    await portal?.close();
    process.env.ATTEST_TEST_STORAGE_CONNECTION = sharedConnection;
    await storage?.close();
  });

  const expectAccessible = async (page: Page) => {
    expect(await seriousViolations(page)).toEqual([]);
  };

  it('signs in each role through the simulated Entra and offers only its pages', async () => {
    const expected: Record<string, string[]> = {
      [PORTAL_USERS.operator]: ['Media hosts'],
      [PORTAL_USERS.admin]: ['Calls', 'Analytics', 'Search', 'Holds', 'Audit', 'Completeness'],
      [PORTAL_USERS.officer]: [
        'Live',
        'Search',
        'Holds',
        'Exports',
        'Dispositions',
        'Audit',
        'Completeness',
      ],
      [PORTAL_USERS.auditor]: ['Search', 'Holds', 'Audit', 'Completeness'],
      [PORTAL_USERS.supervisor]: ['Live', 'Search'],
    };
    for (const [userId, tabs] of Object.entries(expected)) {
      const page = await signIn(portal, userId);
      await expect(page.getByRole('tab').allInnerTexts()).resolves.toEqual(tabs);
      await page.context().close();
    }
  });

  it('shows the admin the calls list and the story of a recorded and a failed call', async () => {
    const page = await signIn(portal, PORTAL_USERS.admin);
    await page.getByRole('tab', { name: 'Calls' }).click();
    await page.getByRole('table', { name: 'Calls' }).waitFor();
    await expect(
      page.getByRole('link', { name: `Story of call ${recordedCallId.slice(0, 8)}` }).count(),
    ).resolves.toBe(1);
    await expect(
      page.getByRole('link', { name: `Story of call ${failedCallId.slice(0, 8)}` }).count(),
    ).resolves.toBe(1);
    await screenshot(page, 'calls');
    await expectAccessible(page);

    await page.getByRole('link', { name: `Story of call ${recordedCallId.slice(0, 8)}` }).click();
    const story = page.getByRole('list', { name: 'What happened, in order' });
    await story.waitFor();
    const steps = await story.getByRole('listitem').allInnerTexts();
    const text = steps.join('\n');
    expect(text).toContain('Invite received');
    expect(text).toContain('Answered');
    expect(text).toContain('Recording status set: recording');
    expect(text).toContain('Gap: paused for payment card data');
    expect(text).toContain('Terminated');
    expect(text).toContain('Sealed');
    // Recorded with a gap: the page says so, and never that the call was not recorded.
    await expect(page.getByText('Why it was not recorded').count()).resolves.toBe(0);
    await expect(
      page.getByText('media is missing only in the gaps listed in the story').count(),
    ).resolves.toBe(1);
    await screenshot(page, 'call-detail-recorded');
    await expectAccessible(page);

    await page.goto(`${portal.portalUrl}calls/${encodeURIComponent(failedCallId)}`);
    const why = page.getByText('Why it was not recorded');
    await why.waitFor();
    await expect(page.getByRole('alert').count()).resolves.toBe(0);
    const warning = await page.locator('text=No media host had room').first().innerText();
    expect(warning).toContain('recorder answered busy');
    await screenshot(page, 'call-detail-failed');
    await expectAccessible(page);
    await page.context().close();
  });
  it('lets the operator drain and undrain a media host', async () => {
    const page = await signIn(portal, PORTAL_USERS.operator);
    await page.getByRole('tab', { name: 'Media hosts' }).click();
    const hostId = portal.stack.media!.hostId;
    const row = page.getByRole('row', { name: new RegExp(hostId) });
    await row.getByText('Healthy').waitFor();
    await screenshot(page, 'media-hosts');
    await expectAccessible(page);
    await page.getByRole('button', { name: `Drain ${hostId}` }).click();
    await row.getByText('Draining').waitFor();
    await page.getByRole('button', { name: `Undrain ${hostId}` }).click();
    await row.getByText('Healthy').waitFor();
    await page.context().close();
  });

  const openInteraction = async (page: Page) => {
    await page.getByRole('tab', { name: 'Search' }).click();
    await page.getByRole('table', { name: 'Interactions' }).waitFor();
    await page
      .getByRole('link', { name: `Open interaction ${recordedInteractionId.slice(0, 8)}` })
      .click();
    await page.getByRole('table', { name: 'Integrity of each stream' }).waitFor();
    await page.waitForFunction(
      "document.querySelectorAll('[data-verdict]').length > 0 && !document.body.innerText.includes('Checking')",
      undefined,
      { timeout: 60_000 },
    );
  };

  it('searches, opens the interaction, verifies every stream in the browser and plays across a gap', async () => {
    const page = await signIn(portal, PORTAL_USERS.officer);
    await openInteraction(page);
    const verdicts = await page
      .locator('[data-verdict]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-verdict') as string | null));
    expect(verdicts.length).toBeGreaterThanOrEqual(2);
    expect(verdicts.every((v) => v === 'verified')).toBe(true);
    const gapButton = page.getByRole('button', {
      name: /Gap at .*paused for payment card data; seek past it/,
    });
    await expect(gapButton.count()).resolves.toBe(1);
    // Each lane is named after its speaker as the participant list holds them; ids only on hover
    // and as secondary text.
    const lanes = page.locator('[data-testid^="lane-label-"]');
    await lanes.filter({ hasText: 'Trader One' }).first().waitFor();
    const labels = await lanes.evaluateAll((els) =>
      els.map((el) => {
        const e = el as unknown as {
          firstElementChild: { textContent: string | null } | null;
          getAttribute(name: string): string | null;
        };
        return {
          name: e.firstElementChild?.textContent ?? '',
          title: e.getAttribute('title') ?? '',
        };
      }),
    );
    expect(labels.map((l) => l.name)).toEqual(
      expect.arrayContaining(['Trader One (audio)', 'Office Staff (audio)']),
    );
    for (const label of labels) {
      expect(label.name).not.toMatch(/audio:|Unknown speaker|[0-9a-f]{8}-[0-9a-f]{4}-/);
      expect(label.title).toMatch(/^participant \S+/);
    }
    // The integrity table names each stream's speaker too, with the stream's id beneath.
    const integrity = await page
      .locator('[data-testid^="integrity-"]')
      .evaluateAll((els) => els.map((el) => (el as unknown as { innerText: string }).innerText));
    expect(integrity.some((row) => row.includes('Trader One (audio)'))).toBe(true);
    expect(integrity.some((row) => row.includes('Office Staff (audio)'))).toBe(true);
    await screenshot(page, 'interaction');
    await expectAccessible(page);

    // Play from the start: the timeline and the audio elements advance.
    await page.getByTestId('play').click();
    await page.waitForFunction(audioPastExpression(0.5));
    await page.getByTestId('play').click();
    // Decoded, not only cued: no lane failed to open its media, and some lane has played.
    const decoded = await page.locator('audio').evaluateAll((els) =>
      els.map((el) => {
        const a = el as unknown as {
          error: { message: string } | null;
          readyState: number;
          played: { length: number };
        };
        return {
          error: a.error?.message ?? null,
          ready: a.readyState >= 2,
          played: a.played.length,
        };
      }),
    );
    expect(decoded.map((d) => ({ error: d.error, ready: d.ready }))).toEqual(
      decoded.map(() => ({ error: null, ready: true })),
    );
    expect(decoded.some((d) => d.played > 0)).toBe(true);
    // Seek past the gap and play on: the playhead starts after it and moves.
    const gapEndInMs = Number(await gapButton.getAttribute('data-gap-end-ms'));
    await gapButton.click();
    const sliderAfterSeek = Number(
      await page.getByRole('slider', { name: 'Position on the timeline' }).inputValue(),
    );
    expect(sliderAfterSeek).toBeGreaterThanOrEqual(gapEndInMs - 1);
    // The paused lanes are cued to their media after the gap (the gap itself is not stored).
    const audioTimes = () =>
      page
        .locator('audio')
        .evaluateAll((els) => els.map((a) => (a as { currentTime: number }).currentTime));
    await page.waitForFunction(audioPastExpression(1));
    const cued = Math.max(...(await audioTimes()));
    await page.getByTestId('play').click();
    await page.waitForFunction(
      `Number(document.querySelector('input[aria-label="Position on the timeline"]').value) > ${sliderAfterSeek + 300}`,
    );
    await page.waitForFunction(audioPastExpression(cued + 0.3));
    await page.getByTestId('play').click();
    await page.context().close();
  });

  it('plays the camera and the screen share on the timeline, decoding real pictures, and seeks', async () => {
    const page = await signIn(portal, PORTAL_USERS.officer);
    await openInteraction(page);
    const camera = 'video[aria-label^="Video of"]';
    const screen = 'video[aria-label^="Screen share of"]';
    await expect(page.locator(camera).count()).resolves.toBe(1);
    await expect(page.locator(screen).count()).resolves.toBe(1);
    const lane = async (selector: string) => ({
      streamId: (await page.locator(selector).getAttribute('data-stream'))!,
      offsetInMs: Number(await page.locator(selector).getAttribute('data-offset-ms')),
    });
    const [cam, share] = [await lane(camera), await lane(screen)];
    const slider = page.getByRole('slider', { name: 'Position on the timeline' });
    const totalInMs = Number(await slider.getAttribute('max'));
    // Clicks the camera's lane where `ms` is, then waits until both pictures stand at the
    // playhead: each element's time is the playhead less its lane's start.
    const seekTo = async (ms: number) => {
      const track = page.getByTestId(`track-${cam.streamId}`);
      const box = (await track.boundingBox())!;
      await track.click({ position: { x: (ms / totalInMs) * box.width, y: box.height / 2 } });
      const at = Number(await slider.inputValue());
      expect(Math.abs(at - ms)).toBeLessThan(totalInMs / 100);
      const lanes = `[[${JSON.stringify(camera)}, ${cam.offsetInMs}], [${JSON.stringify(screen)}, ${share.offsetInMs}]]`;
      await page
        .waitForFunction(
          `${lanes}.every(([s, offset]) => {
            const v = document.querySelector(s);
            return !v.seeking && v.readyState >= 2 && Math.abs(v.currentTime - (${at} - offset) / 1000) < 0.06;
          })`,
        )
        .catch(async (error: unknown) => {
          // Say where each picture stands instead of only that the wait timed out.
          const state = await page.evaluate(
            `JSON.stringify(${lanes}.map(([s]) => { const v = document.querySelector(s);
              return { s, t: v.currentTime, seeking: v.seeking, ready: v.readyState, error: v.error && v.error.message }; }))`,
          );
          throw new Error(
            `the pictures did not stand at ${at} ms: ${String(state)} (${String(error)})`,
          );
        });
      return {
        at,
        camera: await shownPicture(page, camera, { x: 300, y: 60 }),
        screen: await shownPicture(page, screen, { x: 320, y: 60 }),
      };
    };
    // Camera frames run at 15 fps and its key frames fall on clip frames 0 and 30, so the clip
    // frame shown at media time t is the first stored one plus t × 15, the first stored being 0
    // or 30 (earlier frames wait for a key frame): mod 30 the index follows the time.
    const expectCameraFrameAt = (shown: ShownPicture) =>
      expect(
        loopDistance(shown.index, Math.floor(shown.currentTimeInS * 15), 30),
      ).toBeLessThanOrEqual(1);

    // Past the payment-card pause and its next key frame, two seconds apart.
    const gapEndInMs = Number(
      await page
        .getByRole('button', { name: /Gap at .*; seek past it/ })
        .first()
        .getAttribute('data-gap-end-ms'),
    );
    const first = Math.max(gapEndInMs, cam.offsetInMs, share.offsetInMs) + 2500;
    expect(first + 2000).toBeLessThan(totalInMs - 500);
    const a = await seekTo(first);
    const b = await seekTo(first + 2000);
    // Real pictures: the clips' own colours (a green-blue camera background, a blue title band).
    for (const shot of [a, b]) {
      expect(shot.camera).toMatchObject({ width: 320, height: 180 });
      expect(shot.screen).toMatchObject({ width: 640, height: 360 });
      const [r, g, bl] = shot.camera.pixel;
      expect(g + bl).toBeGreaterThan(2 * r);
      expect(shot.screen.pixel[2]).toBeGreaterThan(shot.screen.pixel[0] + 80);
      expectCameraFrameAt(shot.camera);
    }
    // Two seconds on: 30 camera frames and three or four slides (1.875 per second) later.
    expect(loopDistance(b.camera.index, a.camera.index + 30, 60)).toBeLessThanOrEqual(1);
    const slides = (((b.screen.index - a.screen.index) % 8) + 8) % 8;
    expect([3, 4]).toContain(slides);
    await screenshot(page, 'interaction-video');
    // Seeking back shows the same pictures again (a click lands within a pixel of the first
    // one, so at most the neighbouring camera frame).
    const again = await seekTo(a.at);
    expect(loopDistance(again.camera.index, a.camera.index, 60)).toBeLessThanOrEqual(1);
    expect(loopDistance(again.screen.index, a.screen.index, 8)).toBeLessThanOrEqual(1);
    expectCameraFrameAt(again.camera);

    // Playing decodes frame after frame in step with the playhead.
    await page.getByTestId('play').click();
    await page.waitForFunction(
      `(() => { const v = document.querySelector(${JSON.stringify(camera)});
        return v.currentTime > ${again.camera.currentTimeInS + 1} && v.getVideoPlaybackQuality().totalVideoFrames >= ${again.camera.decodedFrames + 10}; })()`,
    );
    await page.getByTestId('play').click();
    const played = await shownPicture(page, camera, { x: 300, y: 60 });
    expectCameraFrameAt(played);
    expect(played.decodedFrames).toBeGreaterThanOrEqual(again.camera.decodedFrames + 10);
    await page.context().close();
  });

  it('places a hold and releases it', async () => {
    const page = await signIn(portal, PORTAL_USERS.officer);
    await page.getByRole('tab', { name: 'Holds' }).click();
    await page
      .getByText('No legal hold has been placed.')
      .or(page.getByRole('table', { name: 'Holds' }))
      .waitFor();
    await page.getByLabel('Matter id').fill('MATTER-PORTAL-1');
    await page.getByLabel('Description').fill('Browser test hold');
    await page.getByLabel('Interaction ids').fill(recordedInteractionId);
    await page.getByRole('button', { name: 'Place hold' }).click();
    const row = page.getByRole('row', { name: /MATTER-PORTAL-1/ });
    await row.getByText('Active').waitFor();
    await expect(row.innerText()).resolves.toContain(recordedInteractionId);
    await screenshot(page, 'holds');
    await expectAccessible(page);
    await page.getByRole('button', { name: 'Release MATTER-PORTAL-1' }).click();
    await row.getByText(/^Released/).waitFor();
    const holds = await portal.stack.api<{ items: { matterId: string; releasedAt?: string }[] }>(
      'GET',
      '/api/archive/holds',
      { token: portal.adminToken },
    );
    expect(holds.body.items.find((h) => h.matterId === 'MATTER-PORTAL-1')?.releasedAt).toEqual(
      expect.any(String),
    );
    await page.context().close();
  });

  it('runs an export from the page and the package passes attest verify', async () => {
    const page = await signIn(portal, PORTAL_USERS.officer);
    await page.getByRole('tab', { name: 'Exports' }).click();
    await page.getByLabel(/Or recorded user id/).fill(USERS.trader);
    await page.getByRole('button', { name: 'Start export' }).click();
    const state = page.getByTestId('export-state');
    await page.waitForFunction(
      `/Completed|Failed/.test(document.querySelector('[data-testid="export-state"]')?.textContent ?? '')`,
      undefined,
      { timeout: 90_000 },
    );
    const text = await state.innerText();
    expect(text).toContain('Completed');
    await screenshot(page, 'exports');
    await expectAccessible(page);
    const exportId = (await page.getByRole('heading', { name: /^Export / }).innerText()).replace(
      'Export ',
      '',
    );
    // The package is in the exports container; it leaves only through the download route, to
    // the officer who made it: the page's button downloads it in this browser.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the package' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.zip$/);
    const dir = await unzipPackage(readFileSync(await download.path()), exportId);
    const report = await verifyExport(dir);
    expect(report.failures).toEqual([]);
    expect(report.isValid).toBe(true);
    expect(report.interactionCount).toBeGreaterThanOrEqual(1);
    await page.context().close();
  });

  it('shows the auditor the ledger with the accesses this test made and the chain intact', async () => {
    const page = await signIn(portal, PORTAL_USERS.auditor);
    await page.getByRole('tab', { name: 'Audit' }).click();
    await page.getByTestId('chain-state').waitFor({ timeout: 60_000 });
    await expect(page.getByTestId('chain-state').innerText()).resolves.toContain('Chain intact');
    await page.getByLabel('Actor').fill(PORTAL_USERS.officer);
    // The page shows the newest entries first, a hundred at a time.
    const more = page.getByRole('button', { name: 'Show more' });
    while ((await more.count()) > 0) await more.click();
    const rows = await page
      .getByRole('table', { name: 'Ledger entries' })
      .getByRole('row')
      .allInnerTexts();
    const officerRows = rows.slice(1);
    expect(officerRows.length).toBeGreaterThan(0);
    expect(officerRows.every((r) => r.includes(PORTAL_USERS.officer))).toBe(true);
    expect(
      officerRows.some((r) => r.includes(recordedInteractionId) && r.includes('action: playback')),
    ).toBe(true);
    expect(officerRows.some((r) => r.includes('held'))).toBe(true);
    await screenshot(page, 'audit');
    await expectAccessible(page);
    await page.context().close();
  });

  it('shows the completeness report for a period', async () => {
    const page = await signIn(portal, PORTAL_USERS.admin);
    await page.getByRole('tab', { name: 'Completeness' }).click();
    const summary = page.getByTestId('completeness-summary');
    await summary.waitFor();
    await expect(summary.innerText()).resolves.toMatch(/[1-9]\d* invites/);
    await screenshot(page, 'completeness');
    await expectAccessible(page);
    await page.context().close();
  });

  it('shows an officer outside the scope nothing of it', async () => {
    const page = await signIn(portal, PORTAL_USERS.outOfScopeOfficer);
    await page.getByRole('tab', { name: 'Search' }).click();
    await page.getByText('No interaction you may see matches.').waitFor();
    await screenshot(page, 'search-out-of-scope');
    await page.goto(`${portal.portalUrl}search/${TENANT}/${recordedInteractionId}`);
    await page.getByRole('alert').first().waitFor();
    const alerts = (await page.getByRole('alert').allInnerTexts()).join(' ');
    expect(alerts).toContain('403');
    expect(alerts).not.toContain(USERS.trader);
    await page.context().close();
  });

  it('is usable in a narrow window', async () => {
    const page = await signIn(portal, PORTAL_USERS.admin, { width: 480, height: 900 });
    await page.getByRole('tab', { name: 'Calls' }).click();
    await page.getByRole('table', { name: 'Calls' }).waitFor();
    const overflow = Number(
      await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'),
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await screenshot(page, 'calls-narrow');
    await page.context().close();
  });

  it('turns the badge red and names the block after a stored byte is flipped', async () => {
    const manifestBlob = BlobServiceClient.fromConnectionString(
      process.env.ATTEST_TEST_STORAGE_CONNECTION!,
    ).getContainerClient(portal.recordingsContainer);
    const manifest = JSON.parse(
      (
        await manifestBlob
          .getBlobClient(`${TENANT}/${recordedInteractionId}/manifest.json`)
          .downloadToBuffer()
      ).toString('utf8'),
    ) as {
      streams: {
        streamId: string;
        blobName: string;
        blocks: { index: number; storedOffset: number; storedLength: number }[];
      }[];
    };
    const stream = manifest.streams.find((s) => s.blocks.length > 2)!;
    const block = stream.blocks[2]!;
    const blob = manifestBlob.getBlockBlobClient(stream.blobName);
    const bytes = await blob.downloadToBuffer();
    bytes[block.storedOffset + Math.floor(block.storedLength / 2)]! ^= 0x01;
    await blob.uploadData(bytes);

    const page = await signIn(portal, PORTAL_USERS.officer);
    await openInteraction(page);
    const row = page.getByTestId(`integrity-${stream.streamId}`);
    await expect(row.locator('[data-verdict]').getAttribute('data-verdict')).resolves.toBe(
      'failed',
    );
    await expect(row.innerText()).resolves.toContain(
      `${stream.streamId} block ${block.index}: stored bytes do not match the signed SHA-256`,
    );
    await screenshot(page, 'interaction-tampered');
    await page.context().close();
  });
});
