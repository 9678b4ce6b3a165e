import { RecorderError } from '../errors';
import { keyVaultError, withKeyVaultErrors } from './key-vault-errors';

const context = {
  service: 'the media host',
  keyNameSettings: 'ATTEST_MEDIA_KEYVAULT_*_NAME',
  challengeSetting: 'ATTEST_MEDIA_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION',
};
const withStatus = (statusCode: number, message = 'service text'): Error =>
  Object.assign(new Error(message), { statusCode });

describe('keyVaultError', () => {
  it('names the key, the operation and what to check, by status', () => {
    expect(keyVaultError('kek', 'get', withStatus(401), context)).toMatchObject({
      code: 'ATT_UNAUTHORIZED',
      message: expect.stringContaining("the media host's credential for get on key kek (401)"),
    });
    expect(keyVaultError('kek', 'sign', withStatus(403), context)).toMatchObject({
      code: 'ATT_CONFIG_INVALID',
      message: expect.stringContaining("grant the media host's identity Key Vault Crypto User"),
    });
    expect(keyVaultError('kek', 'get', withStatus(404), context).message).toContain(
      'check ATTEST_MEDIA_KEYVAULT_*_NAME',
    );
    expect(
      keyVaultError('kek', 'get', new Error('challenge resource does not match'), context).message,
    ).toContain('set ATTEST_MEDIA_KEYVAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION only');
  });

  it('reports a credential that got no token as the credential failing, and retries only what may pass later', () => {
    const noToken = Object.assign(new Error('token endpoint said no'), {
      name: 'AuthenticationError',
      statusCode: 400,
    });
    expect(keyVaultError('kek', 'get', noToken, context)).toMatchObject({
      code: 'ATT_UNAUTHORIZED',
      message:
        "[ATT_UNAUTHORIZED] no token for Key Vault (get on key kek): the media host's credential failed",
    });
    expect(keyVaultError('kek', 'sign', withStatus(503), context)).toMatchObject({
      code: 'ATT_INTERNAL',
      retryable: true,
    });
    expect(keyVaultError('kek', 'sign', withStatus(400), context)).toMatchObject({
      code: 'ATT_INTERNAL',
      retryable: false,
    });
    expect(keyVaultError('kek', 'sign', new Error('socket hang up'), context)).toMatchObject({
      retryable: true,
    });
  });

  it('passes an Attest error through and wraps a failing call', async () => {
    const own = new RecorderError('ATT_CONFIG_INVALID', 'already clear');
    expect(keyVaultError('kek', 'get', own, context)).toBe(own);
    await expect(
      withKeyVaultErrors('kek', 'unwrapKey', context, () => Promise.reject(withStatus(404))),
    ).rejects.toMatchObject({ code: 'ATT_CONFIG_INVALID' });
    await expect(
      withKeyVaultErrors('kek', 'unwrapKey', context, () => Promise.resolve(7)),
    ).resolves.toBe(7);
  });
});
