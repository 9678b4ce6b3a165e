import { formatLogLine } from './log-line';

describe('formatLogLine', () => {
  it('writes level and message first, then base and line fields', () => {
    expect(formatLogLine('info', 'session sealed', { hostId: 'h' }, { streamCount: 2 })).toBe(
      '{"level":"info","message":"session sealed","hostId":"h","streamCount":2}',
    );
  });

  it('stamps the time first when given', () => {
    const line = JSON.parse(
      formatLogLine('warn', 'x', {}, undefined, { time: '2026-12-06T09:00:00.000Z' }),
    ) as Record<string, unknown>;
    expect(Object.keys(line)).toEqual(['time', 'level', 'message']);
  });

  it('redacts personal data under pii by default', () => {
    const line = formatLogLine('info', 'joined', {}, { pii: { displayName: 'Ada' } });
    expect(line).not.toContain('Ada');
    expect(JSON.parse(line)).toMatchObject({ pii: '[redacted]' });
  });

  it('writes pii only when asked to', () => {
    const line = formatLogLine(
      'info',
      'joined',
      {},
      { pii: { displayName: 'Ada' } },
      {
        showPii: true,
      },
    );
    expect(JSON.parse(line)).toMatchObject({ pii: { displayName: 'Ada' } });
  });

  it('lets a line field override a base field of the same name', () => {
    expect(JSON.parse(formatLogLine('info', 'm', { a: 1 }, { a: 2 }))).toMatchObject({ a: 2 });
  });
});
