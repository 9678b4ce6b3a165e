import { parseByteRange, rangeResponse } from './byte-range';

describe('parseByteRange', () => {
  it('reads a first-last range and clamps the last byte to the body', () => {
    expect(parseByteRange('bytes=2-5', 10)).toEqual({ start: 2, end: 5 });
    expect(parseByteRange('bytes=8-100', 10)).toEqual({ start: 8, end: 9 });
  });

  it('reads an open range and a suffix range', () => {
    expect(parseByteRange('bytes=7-', 10)).toEqual({ start: 7, end: 9 });
    expect(parseByteRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
  });

  it('says unsatisfiable for a range that starts past the end', () => {
    expect(parseByteRange('bytes=10-', 10)).toBe('unsatisfiable');
  });

  it('ignores a malformed or multi-range header (the whole body is sent)', () => {
    expect(parseByteRange('bytes=5-2', 10)).toBeUndefined();
    expect(parseByteRange('bytes=0-1,4-5', 10)).toBeUndefined();
    expect(parseByteRange('items=0-1', 10)).toBeUndefined();
    expect(parseByteRange(null, 10)).toBeUndefined();
  });
});

describe('rangeResponse', () => {
  const body = Buffer.from('0123456789');

  it('answers 206 with the bytes and Content-Range', () => {
    const response = rangeResponse('bytes=3-4', body, { 'content-type': 'audio/ogg' });
    expect(response.status).toBe(206);
    expect(response.body).toEqual(Buffer.from('34'));
    expect(response.headers).toMatchObject({
      'content-range': 'bytes 3-4/10',
      'content-length': '2',
      'accept-ranges': 'bytes',
      'content-type': 'audio/ogg',
    });
  });

  it('answers 416 with the size when the range is past the end', () => {
    const response = rangeResponse('bytes=20-', body, {});
    expect(response.status).toBe(416);
    expect(response.headers).toMatchObject({ 'content-range': 'bytes */10' });
  });

  it('answers 200 with the whole body without a Range header', () => {
    const response = rangeResponse(undefined, body, {});
    expect(response.status).toBe(200);
    expect(response.body).toBe(body);
  });
});
