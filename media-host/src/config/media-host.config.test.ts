import { loadConfig } from './media-host.config';

const minimal = {
  ATTEST_MEDIA_CONTROL_KEY: 'a-control-key-of-some-length',
  ATTEST_MEDIA_TLS_CERT_FILE: '/k/tls.crt',
  ATTEST_MEDIA_TLS_KEY_FILE: '/k/tls.key',
  ATTEST_MEDIA_SPOOL_DIR: '/spool',
  ATTEST_MEDIA_SIGNING_KEY_FILE: '/k/signing.pem',
  ATTEST_MEDIA_STORAGE_CONNECTION: 'UseDevelopmentStorage=true',
  ATTEST_MEDIA_KEK_PUBLIC_KEY_FILE: '/k/kek.pem',
};

describe('media host configuration', () => {
  it('applies documented defaults and freezes the result', () => {
    const config = loadConfig(minimal);
    expect(config).toMatchObject({
      commitIntervalInMs: 5000,
      blockMinDurationInMs: 2000,
      isEncryptionEnabled: true,
      isAudioLossless: false,
      recordingsContainer: 'recordings',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every problem at once without echoing values', () => {
    let message = '';
    try {
      loadConfig({
        ATTEST_MEDIA_CONTROL_KEY: 'short-secret',
        ATTEST_MEDIA_COMMIT_INTERVAL_MS: '9000',
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('ATT_CONFIG_INVALID');
    expect(message).toContain('ATTEST_MEDIA_CONTROL_KEY must be at least 16 characters');
    expect(message).toContain(
      'ATTEST_MEDIA_COMMIT_INTERVAL_MS must be an integer from 100 to 5000',
    );
    expect(message).toContain('ATTEST_MEDIA_SPOOL_DIR is required');
    expect(message).not.toContain('short-secret');
  });

  it('leaves live listen-in off without a listen key and refuses a key shorter than 32 characters', () => {
    expect(loadConfig(minimal).liveListenKey).toBeUndefined();
    expect(
      loadConfig({ ...minimal, ATTEST_MEDIA_LIVE_LISTEN_KEY: 'k'.repeat(32) }).liveListenKey,
    ).toBe('k'.repeat(32));
    expect(() =>
      loadConfig({ ...minimal, ATTEST_MEDIA_LIVE_LISTEN_KEY: 'short-listen-key' }),
    ).toThrow('ATTEST_MEDIA_LIVE_LISTEN_KEY must be at least 32 characters');
  });

  it('sends block requests through the REST path unless told to use the SDK', () => {
    expect(loadConfig(minimal).shouldSendBlocksThroughSdk).toBe(false);
    expect(
      loadConfig({ ...minimal, ATTEST_MEDIA_STORAGE_BLOCKS_VIA_SDK: 'true' })
        .shouldSendBlocksThroughSdk,
    ).toBe(true);
    expect(() => loadConfig({ ...minimal, ATTEST_MEDIA_STORAGE_BLOCKS_VIA_SDK: 'proxy' })).toThrow(
      'ATTEST_MEDIA_STORAGE_BLOCKS_VIA_SDK must be true or false',
    );
  });

  it('needs a KEK unless encryption is switched off', () => {
    const withoutKek: Record<string, string | undefined> = {
      ...minimal,
      ATTEST_MEDIA_KEK_PUBLIC_KEY_FILE: undefined,
    };
    expect(() => loadConfig(withoutKek)).toThrow(/KEK_PUBLIC_KEY_FILE/);
    expect(
      loadConfig({ ...withoutKek, ATTEST_MEDIA_ENCRYPTION: 'false' }).isEncryptionEnabled,
    ).toBe(false);
  });
});
