import { parseSettingsFile } from './doctor';

describe('parseSettingsFile', () => {
  it('reads az functionapp config appsettings list output', () => {
    const text = JSON.stringify([
      { name: 'ATTEST_APP_ID', slotSetting: false, value: 'app' },
      { name: 'ATTEST_APP_SECRET', slotSetting: false, value: '@Microsoft.KeyVault(SecretUri=x)' },
    ]);
    expect(parseSettingsFile(text)).toEqual({
      ATTEST_APP_ID: 'app',
      ATTEST_APP_SECRET: '@Microsoft.KeyVault(SecretUri=x)',
    });
  });

  it('reads the Values of a local.settings.json', () => {
    expect(parseSettingsFile('{"IsEncrypted":false,"Values":{"ATTEST_APP_ID":"app"}}')).toEqual({
      ATTEST_APP_ID: 'app',
    });
  });

  it('reads a plain object of settings', () => {
    expect(parseSettingsFile('{"ATTEST_APP_ID":"app","ATTEST_JWT_CLOCK_SKEW_MS":300000}')).toEqual({
      ATTEST_APP_ID: 'app',
      ATTEST_JWT_CLOCK_SKEW_MS: '300000',
    });
  });
});
