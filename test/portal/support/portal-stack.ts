/**
 * The local stack for the portal's browser tests: the recorder stack (simulator, function app,
 * media host) with keys shared the way `npm start` shares them (the media host's KEK and
 * manifest signing key known to the function app, one recordings container), portal users of
 * every role in the simulator's directory, and Debian's Chromium driven by playwright-core.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { DirectoryUser } from '../../../local/src/simulator/policy/model';
import { TENANT, USERS } from '../../simulator/support/fixtures';
import {
  startRecorderStack,
  waitFor,
  type RecorderStack,
} from '../../recorder/support/recorder-stack';
import { writeStackKeyFiles } from '../../recorder/support/stack-keys';
import {
  OpusEncoderPool,
  createStreamFormatterFactory,
} from '../../../media-host/src/pipeline/formats';

export const CHROMIUM = process.env.ATTEST_TEST_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts', 'portal');

export const PORTAL_USERS = {
  admin: USERS.admin,
  operator: '22222222-0000-4000-8000-0000000000b5',
  officer: '22222222-0000-4000-8000-0000000000b1',
  auditor: '22222222-0000-4000-8000-0000000000b2',
  supervisor: '22222222-0000-4000-8000-0000000000b3',
  outOfScopeOfficer: '22222222-0000-4000-8000-0000000000b4',
  secondOfficer: '22222222-0000-4000-8000-0000000000b6',
} as const;

const extraUsers: DirectoryUser[] = [
  {
    id: PORTAL_USERS.operator,
    displayName: 'Operator',
    userPrincipalName: 'operator@fabrikam.example',
    portalRoles: ['operator'],
  },
  {
    id: PORTAL_USERS.officer,
    displayName: 'Compliance Officer',
    userPrincipalName: 'officer@fabrikam.example',
    portalRoles: ['complianceOfficer'],
  },
  {
    id: PORTAL_USERS.auditor,
    displayName: 'Auditor',
    userPrincipalName: 'auditor@fabrikam.example',
    portalRoles: ['auditor'],
  },
  {
    id: PORTAL_USERS.supervisor,
    displayName: 'Supervisor',
    userPrincipalName: 'supervisor@fabrikam.example',
    portalRoles: ['supervisor'],
  },
  {
    id: PORTAL_USERS.secondOfficer,
    displayName: 'Second Officer',
    userPrincipalName: 'officer2@fabrikam.example',
    portalRoles: ['complianceOfficer'],
  },
  {
    id: PORTAL_USERS.outOfScopeOfficer,
    displayName: 'Officer Elsewhere',
    userPrincipalName: 'elsewhere@fabrikam.example',
    portalRoles: ['complianceOfficer'],
  },
];

export interface PortalStack {
  readonly stack: RecorderStack;
  readonly adminToken: string;
  readonly portalUrl: string;
  readonly recordingsContainer: string;
  readonly browser: Browser;
  close(): Promise<void>;
}

/** Adds the portal users of every role ({@link PORTAL_USERS}) to the simulator's directory. */
export function addPortalUsers(stack: RecorderStack): void {
  const directory = stack.sim.directory();
  stack.sim.setDirectory({
    ...directory,
    tenants: directory.tenants.map((t) =>
      t.id === TENANT ? { ...t, users: [...t.users, ...extraUsers] } : t,
    ),
  });
}

export function isChromiumInstalled(): boolean {
  return existsSync(CHROMIUM);
}

export async function startPortalStack(): Promise<PortalStack> {
  const {
    dir: keysDir,
    kekPublic,
    kekPrivate,
    signingPrivate,
    signingPublic,
  } = writeStackKeyFiles('attest-portal-keys-');
  const recordingsContainer = `prt${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  // Live listen-in: the function app signs listen tokens the media host checks.
  const liveListenKey = randomBytes(24).toString('hex');
  const stack = await startRecorderStack({
    env: {
      ATTEST_KEK_PRIVATE_KEY_FILE: kekPrivate,
      ATTEST_KEK_PUBLIC_KEY_FILE: kekPublic,
      ATTEST_MANIFEST_PUBLIC_KEY_FILE: signingPublic,
      ATTEST_ARCHIVE_RECORDINGS_CONTAINER: recordingsContainer,
      ATTEST_LIVE_LISTEN_KEY: liveListenKey,
      // A loaded CI machine can delay heartbeats by seconds; a lost host here would be a flake.
      ATTEST_MEDIA_HOST_STALE_AFTER_MS: '30000',
      ATTEST_ARCHIVE_USER_GROUPS: JSON.stringify({
        [USERS.trader]: ['g-traders'],
        [USERS.colleague]: ['g-traders'],
      }),
      ATTEST_ARCHIVE_RBAC_SCOPES: JSON.stringify({
        [PORTAL_USERS.officer]: ['*'],
        [PORTAL_USERS.secondOfficer]: ['*'],
        [PORTAL_USERS.supervisor]: ['g-traders'],
        [PORTAL_USERS.outOfScopeOfficer]: ['g-sales'],
      }),
    },
  });
  addPortalUsers(stack);
  // The formats a deployed media host stores (Ogg Opus audio, fragmented MP4 video), so the
  // browser plays what production stores; the raw default would be played by nothing.
  const opusPool = new OpusEncoderPool({ workerCount: 1 });
  await stack.startMedia(
    {
      kekPublicKeyFile: kekPublic,
      signingKeyFile: signingPrivate,
      recordingsContainer,
      liveListenKey,
    },
    { formatterFactory: createStreamFormatterFactory({ opusPool }) },
  );
  const adminToken = await stack.adminToken();
  await waitFor(async () => {
    const hosts = await stack.api<{ value: unknown[] }>('GET', '/api/mediahosts', {
      token: adminToken,
    });
    return hosts.status === 200 && hosts.body.value.length > 0 ? true : undefined;
  }, 'the media host heartbeat');
  const browser = await launchChromium();
  return {
    stack,
    adminToken,
    portalUrl: `${stack.baseUrl}/api/portal/`,
    recordingsContainer,
    browser,
    async close() {
      await browser.close().catch(() => undefined);
      await stack.close();
      await opusPool.close();
      rmSync(keysDir, { recursive: true, force: true });
    },
  };
}

/** Debian's Chromium for the portal's browser tests; screenshots go to {@link ARTIFACTS}. */
export async function launchChromium(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** A fresh browser context signed in as `userId` through the simulator's sign-in page. */
export async function signIn(
  portal: Pick<PortalStack, 'browser' | 'portalUrl'>,
  userId: string,
  viewport = { width: 1280, height: 800 },
): Promise<Page> {
  const context = await portal.browser.newContext({
    ignoreHTTPSErrors: true,
    viewport,
    timezoneId: 'America/New_York',
    locale: 'en-US',
  });
  const page = await context.newPage();
  page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
  page.on('console', (m) => {
    if (m.type() === 'error') process.stderr.write(`console: ${m.text()}\n`);
  });
  await page.goto(portal.portalUrl);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/oauth2\/v2\.0\/authorize/);
  await page.locator(`button[value="${userId}"]`).click();
  await page.waitForURL((url) => url.pathname.startsWith('/api/portal/') && url.hash === '');
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  return page;
}

/** Saves `test-artifacts/portal/<name>.png` (git-ignored). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Runs axe-core in the page; returns the serious and critical violations. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const axe = require.resolve('axe-core/axe.min.js');
  await page.addScriptTag({ path: axe });
  // Tabster's focus sentinels (Fluent UI's keyboard navigation) are aria-hidden and focusable by
  // design: they pass focus on at once, so axe's aria-hidden-focus does not apply to them.
  const result = await page.evaluate<{
    violations: { id: string; impact: string; nodes: { target: unknown }[] }[];
  }>("window.axe.run({ exclude: [['[data-tabster-dummy]']] })");
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) => `${v.id} (${v.impact}) at ${JSON.stringify(v.nodes.slice(0, 3).map((n) => n.target))}`,
    );
}
