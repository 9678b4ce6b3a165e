import { ManualClock } from '../util/clock';
import { SimulatedEntra } from './entra';

const payload = (token: string): { iat: number; exp: number; aud: string; tid: string } =>
  JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    iat: number;
    exp: number;
    aud: string;
    tid: string;
  };

describe('simulated Entra webhook tokens', () => {
  const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
  const entra = new SimulatedEntra({
    baseUrl: () => 'https://127.0.0.1:1',
    directory: () => ({ tenants: [], bots: [], applicationInstances: [] }),
    clock,
  });

  it('reuses one token for many deliveries, per bot and tenant, and signs a new one after ten minutes', async () => {
    const first = await entra.signWebhookToken('bot-1', 'tenant-1');
    clock.advance(9 * 60_000);
    expect(await entra.signWebhookToken('bot-1', 'tenant-1')).toBe(first);
    expect(payload(await entra.signWebhookToken('bot-1', 'tenant-2'))).toMatchObject({
      aud: 'bot-1',
      tid: 'tenant-2',
    });
    clock.advance(60_000);
    const next = await entra.signWebhookToken('bot-1', 'tenant-1');
    expect(next).not.toBe(first);
    expect(payload(next).iat - payload(first).iat).toBe(600);
    // Always well inside its hour of validity when sent.
    expect(payload(next).exp - payload(next).iat).toBe(3600);
  });
});
