import { createListenToken, verifyListenToken } from './listen-token';

const key = Buffer.alloc(32, 7);
const now = Date.UTC(2030, 0, 1);
const input = {
  sessionId: '11111111-2222-4333-8444-555555555555',
  userId: 'user-object-1',
  nowMs: now,
  tokenId: 't-1',
};

describe('listen tokens', () => {
  it('verifies a token it issued and returns its claims', () => {
    const token = createListenToken(input, key);
    expect(verifyListenToken(token, key, now + 1000)).toEqual({
      ok: true,
      claims: {
        sessionId: input.sessionId,
        userId: 'user-object-1',
        expiresAtMs: now + 60_000,
        tokenId: 't-1',
      },
    });
  });

  it('rejects a token signed with another key', () => {
    const token = createListenToken(input, Buffer.alloc(32, 8));
    expect(verifyListenToken(token, key, now)).toEqual({ ok: false, reason: 'badSignature' });
  });

  it('rejects a token whose claims were edited', () => {
    const [prefix, , signature] = createListenToken(input, key).split('.');
    const forged = Buffer.from(
      JSON.stringify({ sid: 'other', uid: 'u', exp: now + 1000, jti: 'x' }),
    ).toString('base64url');
    expect(verifyListenToken(`${prefix}.${forged}.${signature}`, key, now)).toEqual({
      ok: false,
      reason: 'badSignature',
    });
  });

  it('rejects an expired token', () => {
    const token = createListenToken(input, key);
    expect(verifyListenToken(token, key, now + 60_000)).toEqual({ ok: false, reason: 'expired' });
  });

  it('rejects tokens that are not three dot-separated parts', () => {
    for (const bad of ['', 'alt1', 'alt1.a', 'x.y.z', 'alt1.a.b.c'])
      expect(verifyListenToken(bad, key, now)).toMatchObject({ ok: false });
  });

  it('refuses keys shorter than 32 bytes and lifetimes over 10 minutes', () => {
    expect(() => createListenToken(input, Buffer.alloc(16))).toThrow('at least 32 bytes');
    expect(() => createListenToken({ ...input, lifetimeInMs: 11 * 60_000 }, key)).toThrow(
      'lifetime out of range',
    );
  });
});
