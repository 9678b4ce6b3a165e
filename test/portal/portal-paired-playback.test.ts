/**
 * The portal plays a paired interaction (two recorder legs on two media hosts, the host of the
 * first killed mid-call) in a real browser (Debian's Chromium through playwright-core): one lane
 * per speaker across the kill point, the capture coverage of the signed timeline drawn and said in
 * words with the switch on each lane, every capture's streams verified in the page, and, at each
 * instant around the switch, the media the player has cued for each lane decoded by Chromium and
 * holding that speaker's tone. The media hosts store what production stores (Ogg Opus). Saves
 * test-artifacts/portal/interaction-paired.png. Needs NODE_EXTRA_CA_CERTS, a built tree and
 * /usr/bin/chromium (`.ci/run` installs it).
 */
import type { Browser, Page } from 'playwright-core';
import type { PlaybackPlan } from '@attest/core';
import { toneFrequencyForMsi } from '../../local/src/simulator/media/synthetic-media';
import { TENANT, USERS } from '../simulator/support/fixtures';
import { waitFor } from '../recorder/support/recorder-stack';
import {
  recordPairedCallWithKilledHost,
  type PairedCallWithKill,
} from '../recorder/support/paired-call';
import { startPairedStack, type PairedStack } from '../recorder/support/paired-stack';
import {
  PORTAL_USERS,
  addPortalUsers,
  launchChromium,
  screenshot,
  seriousViolations,
  signIn,
} from './support/portal-stack';

jest.setTimeout(300_000);

interface Interval {
  readonly captureId: string;
  readonly fromInMs: number;
  readonly toInMs: number;
}
interface Heard {
  readonly lane: string;
  readonly src: string;
  readonly frequency: number;
}

/**
 * In the page (a string: the test project has no DOM types): for each audio lane, the media its
 * element stands at (src and currentTime, as the player cued it), decoded by Chromium, and the
 * frequency of the next 100 ms by zero crossings. Decoded buffers are kept per object URL.
 */
const HEARD_IN_PAGE = `(async () => {
  const cache = (window.__decodedLanes ??= new Map());
  const heard = [];
  for (const a of document.querySelectorAll('audio[data-stream]')) {
    const src = a.getAttribute('src');
    let buffer = cache.get(src);
    if (buffer === undefined) {
      const bytes = await (await fetch(src)).arrayBuffer();
      buffer = await new OfflineAudioContext(1, 1, 16000).decodeAudioData(bytes);
      cache.set(src, buffer);
    }
    const data = buffer.getChannelData(0);
    const from = Math.floor(a.currentTime * buffer.sampleRate);
    const length = Math.floor(0.1 * buffer.sampleRate);
    let crossings = 0;
    for (let i = from + 1; i < Math.min(from + length, data.length); i += 1)
      if ((data[i - 1] < 0) !== (data[i] < 0)) crossings += 1;
    heard.push({ lane: a.getAttribute('data-stream'), src, frequency: crossings / 2 / 0.1 });
  }
  return heard;
})()`;

describe('portal: playback of a paired interaction across a killed media host', () => {
  let paired: PairedStack;
  let browser: Browser;
  let call: PairedCallWithKill;
  let plan: PlaybackPlan;
  let page: Page;

  beforeAll(async () => {
    paired = await startPairedStack({
      mediaHostCount: 3,
      storedFormats: 'production',
      env: {
        // A loaded machine delays heartbeats by seconds (see paired-playback.test.ts).
        ATTEST_MEDIA_HOST_STALE_AFTER_MS: '30000',
        ATTEST_MEDIA_CONTROL_TIMEOUT_MS: '15000',
        ATTEST_ARCHIVE_RBAC_SCOPES: JSON.stringify({
          [USERS.admin]: ['*'],
          [PORTAL_USERS.officer]: ['*'],
        }),
      },
    });
    addPortalUsers(paired.stack);
    browser = await launchChromium();
    call = await recordPairedCallWithKilledHost(paired);
    const officer = await paired.stack.control<{ access_token: string }>(
      'POST',
      '/_sim/users/token',
      { tenantId: TENANT, userId: PORTAL_USERS.officer, roles: ['complianceOfficer'] },
    );
    plan = await waitFor(async () => {
      const response = await fetch(
        `${paired.stack.baseUrl}/api/archive/interactions/${TENANT}/${call.interactionId}/playback`,
        { headers: { authorization: `Bearer ${officer.body.access_token}` } },
      );
      return response.status === 200 ? ((await response.json()) as PlaybackPlan) : undefined;
    }, 'the sealed interaction and its playback plan');
    const portal = { browser, portalUrl: `${paired.stack.baseUrl}/api/portal/` };
    page = await signIn(portal, PORTAL_USERS.officer);
    await page.goto(`${portal.portalUrl}search/${TENANT}/${call.interactionId}`);
    await page.getByRole('table', { name: 'Integrity of each stream' }).waitFor();
    // Every capture's streams fetched by Range and checked block by block in the page.
    await page.waitForFunction(
      "document.querySelectorAll('[data-verdict]').length > 0 && !document.body.innerText.includes('Checking')",
      undefined,
      { timeout: 120_000 },
    );
  }, 400_000);
  afterAll(async () => {
    await browser?.close().catch(() => undefined);
    await paired?.close();
  });

  const victimCapture = () => plan.captureIds.find((id) => id !== call.survivor.interactionId)!;
  const coverage = async (): Promise<Interval[]> =>
    page.locator('[data-testid="coverage"] [data-capture-id]').evaluateAll((els) =>
      els.map((el) => ({
        captureId: el.getAttribute('data-capture-id') ?? '',
        fromInMs: Number(el.getAttribute('data-from-ms')),
        toInMs: Number(el.getAttribute('data-to-ms')),
      })),
    );

  /** Where the timeline switches from the killed host's capture to the survivor's, for good. */
  const switchOf = (intervals: readonly Interval[]): number => intervals.at(-1)?.fromInMs ?? NaN;

  it('shows one verified lane per speaker, from both captures', async () => {
    expect(plan.kind).toBe('captures');
    expect(plan.captureIds).toHaveLength(2);
    const audioLanes = plan.lanes.filter((l) => l.kind === 'audio').map((l) => l.laneId);
    expect(audioLanes).toHaveLength(2);
    const shown = await page
      .locator('audio[data-stream]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-stream') as string | null));
    expect([...shown].sort()).toEqual([...audioLanes].sort());
    await expect(page.getByRole('button', { name: /^Mute / }).count()).resolves.toBe(2);
    const rows = await page.locator('[data-testid^="integrity-"]').evaluateAll((els) =>
      els.map((el) => {
        const row = el as unknown as {
          getAttribute(name: string): string | null;
          querySelector(selector: string): { getAttribute(name: string): string | null } | null;
        };
        return {
          key: (row.getAttribute('data-testid') ?? '').replace(/^integrity-/, ''),
          verdict: row.querySelector('[data-verdict]')?.getAttribute('data-verdict') ?? null,
          detail: (row as unknown as { innerText: string }).innerText,
        };
      }),
    );
    // On failure, each stream's row says what did not check.
    expect(rows.filter((r) => r.verdict !== 'verified')).toEqual([]);
    for (const captureId of plan.captureIds)
      expect(rows.some((r) => r.key.startsWith(`${captureId}/`))).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('draws which capture covers which interval, switching where the killed host stopped', async () => {
    const intervals = await coverage();
    // The first leg's capture covers up to where its host stopped; the survivor's from there to
    // the end (before the first leg's media began, the survivor may cover the start too).
    expect(intervals.slice(-2).map((i) => i.captureId)).toEqual([
      victimCapture(),
      call.survivor.interactionId,
    ]);
    const switchAt = switchOf(intervals);
    // The victim's capture ends at its last committed media: before the kill, not long before.
    const switchWallClock = Date.parse(plan.startedAt!) + switchAt;
    expect(switchWallClock).toBeLessThanOrEqual(call.killedAt + 1000);
    expect(switchWallClock).toBeGreaterThan(call.killedAt - 10_000);
    // Each lane shows the same switch (among others where the survivor covered a first moment
    // before the first leg's media began), and the words name both media hosts.
    for (const lane of plan.lanes.filter((l) => l.kind === 'audio')) {
      const markers = page.getByTestId(`capture-switch-${lane.laneId}`);
      const ats = await markers.evaluateAll((els) =>
        els.map((el) => Number(el.getAttribute('data-at-ms'))),
      );
      const index = ats.findIndex((at) => Math.abs(at - switchAt) <= 1);
      expect({ lane: lane.laneId, ats, switchAt, isShown: index >= 0 }).toEqual({
        lane: lane.laneId,
        ats,
        switchAt,
        isShown: true,
      });
      await expect(markers.nth(index).isVisible()).resolves.toBe(true);
    }
    const legend = await page.getByTestId('coverage-legend').innerText();
    expect(legend).toContain(`Capture 1 (media host ${call.victim.hostId})`);
    expect(legend).toContain(`Capture 2 (media host ${call.survivor.mediaHostId})`);
  });

  it("plays each speaker's own tone across the switch, from one capture then the other", async () => {
    const switchAt = switchOf(await coverage());
    const msiOf = new Map(plan.lanes.map((l) => [l.laneId, Number(l.msi)]));
    const slider = page.getByRole('slider', { name: 'Position on the timeline' });
    const heardAt: { atInMs: number; heard: Heard[] }[] = [];
    for (let at = Math.max(500, switchAt - 2000); at <= switchAt + 2000; at += 250) {
      // Seek as a user does: the slider (React reads the input event).
      await slider.evaluate((el, value) => {
        const input = el as unknown as { value: string; dispatchEvent(e: unknown): boolean };
        const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(input), 'value')!.set!;
        setter.call(input, String(value));
        input.dispatchEvent(
          new (globalThis as unknown as { Event: new (t: string, o: unknown) => unknown }).Event(
            'input',
            { bubbles: true },
          ),
        );
      }, at);
      // Cued: the playhead is there and every lane's element stands still on loaded media.
      await page.waitForFunction(
        `Number(document.querySelector('input[aria-label="Position on the timeline"]').value) === ${at} &&
         [...document.querySelectorAll('audio[data-stream]')].every((a) => !a.seeking && a.readyState >= 2)`,
        undefined,
        { timeout: 30_000 },
      );
      await page.evaluate(
        'new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))',
      );
      await page.waitForFunction(
        "[...document.querySelectorAll('audio[data-stream]')].every((a) => !a.seeking && a.readyState >= 2)",
        undefined,
        { timeout: 30_000 },
      );
      heardAt.push({ atInMs: at, heard: await page.evaluate<Heard[]>(HEARD_IN_PAGE) });
      // The last instant, two seconds past the switch: the playhead and the switch apart.
      if (at + 250 > switchAt + 2000) await screenshot(page, 'interaction-paired');
    }
    const wrong = heardAt.flatMap(({ atInMs, heard }) =>
      heard
        .filter((h) => {
          const expected = toneFrequencyForMsi(msiOf.get(h.lane)!);
          return Math.abs(h.frequency - expected) > expected * 0.1;
        })
        .map((h) => ({ atInMs, ...h })),
    );
    expect(wrong).toEqual([]);
    // Each lane played one capture's stream before the switch and the other's after it.
    for (const lane of msiOf.keys()) {
      if (plan.lanes.find((l) => l.laneId === lane)?.kind !== 'audio') continue;
      const srcs = (side: (at: number) => boolean) =>
        new Set(
          heardAt
            .filter((h) => side(h.atInMs))
            .flatMap((h) => h.heard.filter((x) => x.lane === lane).map((x) => x.src)),
        );
      const before = srcs((at) => at < switchAt - 100);
      const after = srcs((at) => at > switchAt + 100);
      expect(before.size).toBe(1);
      expect(after.size).toBe(1);
      expect([...before][0]).not.toBe([...after][0]);
    }
  });
});
