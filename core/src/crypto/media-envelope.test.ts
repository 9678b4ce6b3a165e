import { generateKeyPairSync } from 'node:crypto';
import {
  blockAad,
  createDataKey,
  decryptBlock,
  encryptBlock,
  unwrapDataKey,
  wrapDataKey,
} from './media-envelope';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('media envelope', () => {
  it('round-trips a block through encrypt and decrypt', () => {
    const key = createDataKey();
    const aad = blockAad('int-1', 'audio-100', 3);
    const stored = encryptBlock(key, aad, Buffer.from('pcm frames'));
    expect(decryptBlock(key, aad, stored).toString()).toBe('pcm frames');
  });

  it('refuses a block moved to another index', () => {
    const key = createDataKey();
    const stored = encryptBlock(key, blockAad('int-1', 's', 3), Buffer.from('x'));
    expect(() => decryptBlock(key, blockAad('int-1', 's', 4), stored)).toThrow();
  });

  it('refuses a flipped byte', () => {
    const key = createDataKey();
    const aad = blockAad('int-1', 's', 0);
    const stored = encryptBlock(key, aad, Buffer.from('abcdef'));
    stored[14] = (stored[14] ?? 0) ^ 1;
    expect(() => decryptBlock(key, aad, stored)).toThrow();
  });

  it('wraps with the public key and unwraps with the private key', () => {
    const key = createDataKey();
    const record = wrapDataKey(publicKey, 'kek-1', key, new Date('2026-01-01T00:00:00Z'));
    expect(unwrapDataKey(privateKey, record).equals(key)).toBe(true);
  });
});
