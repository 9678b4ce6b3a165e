import { identityKeyOf, partyKeyOf, partyKeysOf, phoneKeyOf } from './party-keys';

describe('party keys', () => {
  it('names a phone number by its E.164 digits, whatever the punctuation', () => {
    expect(phoneKeyOf('+1 (425) 555-0100')).toBe('tel:+14255550100');
    expect(phoneKeyOf('14255550100')).toBe('tel:+14255550100');
    expect(partyKeyOf(' +44 20 7946 0958 ')).toBe('tel:+442079460958');
  });

  it('does not take an extension, an over-long number or a word for a phone number', () => {
    expect(phoneKeyOf('1234')).toBeUndefined();
    expect(phoneKeyOf('+1234567890123456')).toBeUndefined();
    expect(phoneKeyOf('user-a')).toBeUndefined();
  });

  it('names an identity by its id in lower case and refuses ids that cannot be one', () => {
    expect(partyKeyOf('5D6C0A1E-0000-4000-8000-000000000001')).toBe(
      'id:5d6c0a1e-0000-4000-8000-000000000001',
    );
    expect(identityKeyOf('')).toBeUndefined();
    expect(identityKeyOf('../holds')).toBeUndefined();
    expect(identityKeyOf('a\u0000b')).toBeUndefined();
    expect(identityKeyOf('x'.repeat(257))).toBeUndefined();
  });

  it('keys every party of an interaction: recorded users, numbers and participants', () => {
    expect(
      partyKeysOf(
        { recordedUserIds: ['User-A'], originNumber: '+1 425 555 0100', dialedNumber: undefined },
        [
          { identityKind: 'phone', identityId: '+14255550100' },
          { identityKind: 'guest', identityId: 'guest-7' },
          { identityKind: 'application', identityId: 'app-9' },
          { identityKind: 'user', identityId: 'user-b' },
          { identityKind: 'unknown', identityId: 'x' },
          { identityKind: 'user' },
        ],
      ),
    ).toEqual(['id:app-9', 'id:guest-7', 'id:user-a', 'id:user-b', 'tel:+14255550100']);
  });
});
