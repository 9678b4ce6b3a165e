import { lifecycleInstanceId, sanitizeKey } from './ids';
import { errorCodeOf, ErrorCode, RecorderError } from './errors';

describe('ids', () => {
  it('derives a lifecycle instance id from a call id', () => {
    expect(lifecycleInstanceId('4a1f-9')).toBe('call-4a1f-9');
  });
  it('replaces characters that Azure Tables reject', () => {
    expect(sanitizeKey('a/b\\c#d?e\u0001')).toBe('a_b_c_d_e_');
  });
});

describe('errorCodeOf', () => {
  it('reads the code back from a plain Error rebuilt by Durable', () => {
    const original = new RecorderError(ErrorCode.MediaHostUnavailable, 'no host');
    expect(errorCodeOf(new Error(original.message))).toBe(ErrorCode.MediaHostUnavailable);
  });
  it('ignores an unknown code', () => {
    expect(errorCodeOf(new Error('[ATT_NOPE] x'))).toBeUndefined();
  });
});
