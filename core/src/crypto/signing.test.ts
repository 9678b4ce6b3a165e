import { generateKeyPairSync, sign } from 'node:crypto';
import { createLocalSigner, sha256Digest, signatureAlgorithmOf, verifySignature } from './signing';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const data = Buffer.from('{"v":1,"seq":4}', 'utf8');

describe('signatures', () => {
  it('names the algorithm of Ed25519 and P-256 keys and nothing else', () => {
    expect([
      signatureAlgorithmOf(ed.publicKey),
      signatureAlgorithmOf(ec.publicKey),
      signatureAlgorithmOf(rsa.publicKey),
    ]).toEqual(['Ed25519', 'ES256', undefined]);
  });

  it('signs ES256 as raw r||s of 64 bytes that verifies', async () => {
    const signature = await createLocalSigner(ec.privateKey, ec.publicKey, 'k').sign(data);
    expect(signature).toHaveLength(64);
    expect(verifySignature('ES256', data, signature, ec.publicKey)).toBe(true);
  });

  it('fails an ES256 signature over other bytes', async () => {
    const signature = await createLocalSigner(ec.privateKey, ec.publicKey, 'k').sign(data);
    expect(verifySignature('ES256', Buffer.from('other'), signature, ec.publicKey)).toBe(false);
  });

  it('fails a DER-encoded ECDSA signature (only raw r||s is accepted)', () => {
    const der = sign('sha256', data, ec.privateKey);
    expect(verifySignature('ES256', data, der, ec.publicKey)).toBe(false);
  });

  it('fails, without throwing, an unknown algorithm, a key of the wrong type and garbage', async () => {
    const signature = await createLocalSigner(ed.privateKey, ed.publicKey, 'k').sign(data);
    expect(verifySignature('Ed25519', data, signature, ed.publicKey)).toBe(true);
    expect(verifySignature('RS256', data, signature, ed.publicKey)).toBe(false);
    expect(verifySignature(undefined, data, signature, ed.publicKey)).toBe(false);
    expect(verifySignature('ES256', data, signature, ed.publicKey)).toBe(false);
    expect(verifySignature('Ed25519', data, signature, ec.publicKey)).toBe(false);
    expect(verifySignature('ES256', data, Buffer.alloc(64), ec.publicKey)).toBe(false);
  });

  it('hashes with SHA-256 for a vault that signs digests', () => {
    expect(sha256Digest(Buffer.from('')).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});
