import { startServices, type ServiceDefinition } from './services';

function fakeService(
  name: string,
  events: string[],
  options: { fail?: boolean; settings?: Record<string, string> } = {},
): ServiceDefinition {
  return {
    name,
    start(context) {
      events.push(`start ${name} sees ${context.env.SHARED ?? '-'}`);
      if (options.fail === true) return Promise.reject(new Error('port in use'));
      return Promise.resolve({
        name,
        urls: { main: `http://127.0.0.1/${name}` },
        settings: options.settings,
        stop: () => {
          events.push(`stop ${name}`);
          return Promise.resolve();
        },
      });
    },
  };
}

const base = { rootDir: '/r', dataDir: '/r/.data', env: {}, log: () => undefined };

describe('startServices', () => {
  it('passes earlier settings to later services and stops in reverse order', async () => {
    const events: string[] = [];
    const running = await startServices(
      [
        fakeService('storage', events, { settings: { SHARED: 'conn' } }),
        fakeService('functions', events),
      ],
      base,
    );
    expect(running.services.map((s) => s.urls.main)).toEqual([
      'http://127.0.0.1/storage',
      'http://127.0.0.1/functions',
    ]);
    await running.stop();
    await running.stop();
    expect(events).toEqual([
      'start storage sees -',
      'start functions sees conn',
      'stop functions',
      'stop storage',
    ]);
  });

  it('stops the services already started when a later one fails, naming it', async () => {
    const events: string[] = [];
    await expect(
      startServices(
        [fakeService('storage', events), fakeService('functions', events, { fail: true })],
        base,
      ),
    ).rejects.toThrow('functions failed to start: port in use');
    expect(events).toEqual(['start storage sees -', 'start functions sees -', 'stop storage']);
  });
});
