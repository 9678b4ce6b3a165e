/** Fixed, fictitious directory data for simulator tests. */
import type {
  CompliancePolicy,
  Directory,
  RecorderApplicationSettings,
} from '../../../local/src/simulator/policy/model';

export const TENANT = 'a1b2c3d4-0000-4000-8000-0000000000aa';
export const OTHER_TENANT = 'a1b2c3d4-0000-4000-8000-0000000000bb';
export const BOT_APP = '55555555-0000-4000-8000-0000000000aa';
export const BOT_SECRET = 'test-secret-value';
export const INSTANCE = '44444444-0000-4000-8000-0000000000aa';
export const PAIRED_INSTANCE = '44444444-0000-4000-8000-0000000000bb';
export const USERS = {
  trader: '11111111-0000-4000-8000-0000000000a1',
  colleague: '11111111-0000-4000-8000-0000000000a2',
  unrecorded: '11111111-0000-4000-8000-0000000000a3',
  admin: '22222222-0000-4000-8000-0000000000a1',
  /** A portal user of the other tenant. */
  otherAdmin: '22222222-0000-4000-8000-0000000000b1',
} as const;

export function application(
  overrides: Partial<RecorderApplicationSettings> = {},
): RecorderApplicationSettings {
  return {
    applicationInstanceId: INSTANCE,
    requiredBeforeCallEstablishment: true,
    requiredDuringCall: true,
    requiredBeforeMeetingJoin: true,
    requiredDuringMeeting: true,
    concurrentInvitationCount: 1,
    ...overrides,
  };
}

export function testDirectory(
  webhookUrl: string,
  policy: Partial<CompliancePolicy> = {},
): Directory {
  return {
    tenants: [
      {
        id: TENANT,
        displayName: 'Fabrikam (test)',
        users: [
          {
            id: USERS.trader,
            displayName: 'Trader One',
            userPrincipalName: 'trader1@fabrikam.example',
            region: 'EUWE',
          },
          {
            id: USERS.colleague,
            displayName: 'Trader Two',
            userPrincipalName: 'trader2@fabrikam.example',
          },
          {
            id: USERS.unrecorded,
            displayName: 'Office Staff',
            userPrincipalName: 'staff@fabrikam.example',
          },
          {
            id: USERS.admin,
            displayName: 'Portal Admin',
            userPrincipalName: 'admin@fabrikam.example',
            portalRoles: ['admin', 'auditor'],
          },
        ],
        groups: [],
        policies: [
          {
            identity: 'Tag:Recorded',
            enabled: true,
            applications: [application()],
            warnUserOnRemoval: true,
            disableComplianceRecordingAudioNotificationForCalls: false,
            recordReroutedCalls: false,
            ...policy,
          },
        ],
        assignments: {
          users: { [USERS.trader]: 'Tag:Recorded', [USERS.colleague]: 'Tag:Recorded' },
          groups: [],
        },
      },
      {
        id: OTHER_TENANT,
        displayName: 'Other (test)',
        users: [
          {
            id: USERS.otherAdmin,
            displayName: 'Other Admin',
            userPrincipalName: 'admin@other.example',
          },
        ],
        groups: [],
        policies: [],
        assignments: { users: {}, groups: [] },
      },
    ],
    bots: [
      {
        appId: BOT_APP,
        clientSecret: BOT_SECRET,
        homeTenantId: TENANT,
        displayName: 'Test recorder',
        callingWebhookUrl: webhookUrl,
      },
    ],
    applicationInstances: [
      { id: INSTANCE, tenantId: TENANT, botAppId: BOT_APP, displayName: 'Recorder A' },
      { id: PAIRED_INSTANCE, tenantId: TENANT, botAppId: BOT_APP, displayName: 'Recorder B' },
    ],
  };
}
