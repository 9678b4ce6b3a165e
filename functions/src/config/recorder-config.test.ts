import { loadConfig } from './load-config';

const minimal = {
  ATTEST_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true',
  ATTEST_APP_ID: 'app-1',
  ATTEST_APP_SECRET: 'super-secret-value',
  ATTEST_SERVED_TENANT_IDS: 'tenant-a, tenant-b',
  ATTEST_PUBLIC_BASE_URL: 'https://rec.example/',
  ATTEST_WEBHOOK_OPENID_METADATA_URL: 'https://keys.example/.well-known/openid-configuration',
  ATTEST_MEDIA_CONTROL_KEY: 'control-key',
  ATTEST_ADMIN_OPENID_METADATA_URL: 'https://login.example/t/v2.0/.well-known/openid-configuration',
  ATTEST_ADMIN_ISSUERS: 'https://login.example/t/v2.0',
};

describe('recorder configuration', () => {
  it('applies the documented defaults', () => {
    const { recorder } = loadConfig(minimal);
    expect(recorder).toMatchObject({
      appId: 'app-1',
      servedTenantIds: ['tenant-a', 'tenant-b'],
      publicBaseUrl: 'https://rec.example',
      graphBaseUrl: 'https://graph.microsoft.com',
      entraAuthorityHost: 'https://login.microsoftonline.com',
      entraDisableInstanceDiscovery: false,
      keepAliveIntervalInMs: 900_000,
      mediaHostStaleAfterInMs: 30_000,
      participantCapacity: 200,
      webhook: {
        issuers: ['https://api.botframework.com'],
        audiences: ['app-1'],
        allowedTenantIds: ['tenant-a', 'tenant-b'],
        clockSkewInMs: 300_000,
      },
      admin: { audiences: ['app-1'] },
    });
    expect(Object.isFrozen(recorder.webhook)).toBe(true);
  });

  it('adds the Graph issuer and disables instance discovery for a local authority when asked', () => {
    const { recorder } = loadConfig({
      ...minimal,
      ATTEST_WEBHOOK_ACCEPT_GRAPH_ISSUER: 'true',
      ATTEST_ENTRA_AUTHORITY_HOST: 'https://127.0.0.1:8443',
    });
    expect(recorder.webhook.issuers).toEqual([
      'https://api.botframework.com',
      'https://graph.microsoft.com',
    ]);
    expect(recorder.entraDisableInstanceDiscovery).toBe(true);
  });

  it('reports every missing or invalid key at once without echoing values', () => {
    const env = {
      ...minimal,
      ATTEST_APP_ID: '',
      ATTEST_MEDIA_CONTROL_KEY: ' ',
      ATTEST_RECORDER_KEEPALIVE_INTERVAL_MS: '99999999',
      ATTEST_GRAPH_BASE_URL: 'ftp://x',
    };
    let message = '';
    try {
      loadConfig(env);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('[ATT_CONFIG_INVALID]');
    for (const key of [
      'ATTEST_APP_ID',
      'ATTEST_MEDIA_CONTROL_KEY',
      'ATTEST_RECORDER_KEEPALIVE_INTERVAL_MS',
      'ATTEST_GRAPH_BASE_URL',
    ])
      expect(message).toContain(key);
    expect(message).not.toContain('super-secret-value');
  });
});
