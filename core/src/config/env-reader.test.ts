import { EnvReader } from './env-reader';

describe('EnvReader', () => {
  it('lists every missing and invalid key in one error, without their values', () => {
    const reader = new EnvReader({ ATTEST_X_PORT: 'secret-70000', ATTEST_X_ON: 'maybe' });
    reader.string('ATTEST_X_NAME');
    reader.integer('ATTEST_X_PORT', 1, 0, 65535);
    reader.boolean('ATTEST_X_ON', false);
    expect(() => reader.assertValid()).toThrow(
      'invalid configuration: ATTEST_X_NAME is required; ATTEST_X_PORT must be an integer from 0 to 65535; ATTEST_X_ON must be true or false',
    );
    expect(() => reader.assertValid()).not.toThrow(/secret|maybe/);
  });

  it('prefixes names and opens the message with the words it is given', () => {
    const reader = new EnvReader({}, { prefix: 'ATTEST_MEDIA_', invalidMessage: 'media host' });
    reader.string('SPOOL_DIR');
    expect(reader.problems).toEqual(['ATTEST_MEDIA_SPOOL_DIR is required']);
    expect(() => reader.assertValid()).toThrow('media host: ATTEST_MEDIA_SPOOL_DIR is required');
  });

  it('trims values, treats blank as unset and uses the defaults', () => {
    const reader = new EnvReader({ A: '  x ', B: '   ', C: ' 42 ' });
    expect([reader.string('A'), reader.stringOr('B', 'd'), reader.integer('C', 0, 0, 100)]).toEqual(
      ['x', 'd', 42],
    );
    expect(() => reader.assertValid()).not.toThrow();
  });

  it('reads true/1/on/yes and false/0/off/no in any case', () => {
    const reader = new EnvReader({ A: 'YES', B: 'off', C: '1', D: 'False' });
    expect(['A', 'B', 'C', 'D'].map((name) => reader.boolean(name, false))).toEqual([
      true,
      false,
      true,
      false,
    ]);
  });

  it('splits lists on commas and drops empty entries', () => {
    expect(new EnvReader({ L: ' a, ,b ,' }).list('L')).toEqual(['a', 'b']);
  });

  it('takes absolute http(s) URLs without trailing slashes and refuses others', () => {
    const reader = new EnvReader({ U: 'https://x.example/api//', V: 'ftp://x.example' });
    expect(reader.url('U', { required: true })).toBe('https://x.example/api');
    expect(reader.url('V', { required: false })).toBeUndefined();
    expect(reader.problems).toEqual(['V must be an absolute http(s) URL']);
  });
});
