import { RECORDING_KEYS_CONTAINER, recordingBlobNames } from '@attest/core';
import type { Logger } from '../logging/logger';
import { silentLogger } from '../logging/logger';
import type { BlockStore } from '../sink/block-store';
import type { SessionIdentity } from './session-facts';
import { SessionSetup } from './session-setup';

const IDENTITY: SessionIdentity = {
  sessionId: 's-1',
  request: { callId: 'c', tenantId: 't', interactionId: 'i', recordedUserIds: [] },
  tokenSha256: '00'.repeat(32),
  token: 'secret-token',
  createdAt: '2026-12-07T09:00:00.000Z',
  dataKey: Buffer.alloc(32, 1),
  kekId: 'kek-1',
};

function setupWith(hasKeyRecord: boolean, log: Logger = silentLogger) {
  const uploads: { container: string; name: string; bytes: string }[] = [];
  const store = {
    upload: (container: string, name: string, bytes: Buffer) => {
      uploads.push({ container, name, bytes: bytes.toString('utf8') });
      return Promise.resolve();
    },
  } as unknown as BlockStore;
  return { setup: new SessionSetup(store, IDENTITY, log, hasKeyRecord), uploads };
}

describe('SessionSetup', () => {
  it('writes the wrapped key record once, under the interaction in the keys container', async () => {
    const { setup, uploads } = setupWith(false);
    await setup.ensureKeyRecord(Buffer.from('{"wrapped":1}'));
    await setup.ensureKeyRecord(Buffer.from('{"wrapped":2}'));
    expect(uploads).toEqual([
      {
        container: RECORDING_KEYS_CONTAINER,
        name: recordingBlobNames('t', 'i').wrappedKey,
        bytes: '{"wrapped":1}',
      },
    ]);
  });

  it('writes nothing when the key record is already written (a restored session)', async () => {
    const { setup, uploads } = setupWith(true);
    await setup.ensureKeyRecord(Buffer.from('{"wrapped":1}'));
    expect(uploads).toEqual([]);
  });

  it('writes nothing for a session without a wrapped key', async () => {
    const { setup, uploads } = setupWith(false);
    await setup.ensureKeyRecord(undefined);
    expect(uploads).toEqual([]);
  });

  it('surfaces a failed set-up to whoever waits for it, and logs it once', async () => {
    const errors: string[] = [];
    const log: Logger = { ...silentLogger, error: (message) => void errors.push(message) };
    const { setup } = setupWith(false, log);
    setup.begin(() => Promise.reject(new Error('storage down')));
    await expect(setup.done).rejects.toThrow('storage down');
    expect(errors).toEqual(['session set-up failed']);
  });

  it('is done at once when no set-up was begun', async () => {
    const { setup } = setupWith(false);
    await expect(setup.done).resolves.toBeUndefined();
  });
});
