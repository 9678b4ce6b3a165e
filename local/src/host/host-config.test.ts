import { parseHostJson, parseTimeSpanInMs } from './host-config';
import { loadHostCliConfig } from './main';

describe('parseHostJson', () => {
  it('applies the Functions defaults to an empty file', () => {
    expect(parseHostJson({})).toMatchObject({
      routePrefix: 'api',
      taskHubName: 'AttestHub',
      queueMaxDequeueCount: 5,
      queueVisibilityTimeoutInMs: 0,
      queueMessageEncoding: 'base64',
    });
  });

  it('reads the settings the host honours', () => {
    const settings = parseHostJson({
      extensions: {
        http: { routePrefix: '/v1/' },
        durableTask: {
          hubName: 'OtherHub',
          maxConcurrentOrchestratorFunctions: 4,
          maxConcurrentActivityFunctions: 6,
        },
        queues: { maxDequeueCount: 2, visibilityTimeout: '00:00:30', messageEncoding: 'none' },
      },
    });
    expect(settings).toMatchObject({
      routePrefix: 'v1',
      taskHubName: 'OtherHub',
      maxConcurrentOrchestratorFunctions: 4,
      maxConcurrentActivityFunctions: 6,
      queueMaxDequeueCount: 2,
      queueVisibilityTimeoutInMs: 30_000,
      queueMessageEncoding: 'none',
    });
  });

  it('rejects a durable concurrency that is not a positive integer', () => {
    expect(() =>
      parseHostJson({ extensions: { durableTask: { maxConcurrentActivityFunctions: 0 } } }),
    ).toThrow('maxConcurrentActivityFunctions must be a positive integer');
    expect(() =>
      parseHostJson({ extensions: { durableTask: { maxConcurrentOrchestratorFunctions: '8' } } }),
    ).toThrow('maxConcurrentOrchestratorFunctions');
  });

  it('rejects a hub name Azure Storage cannot use', () => {
    expect(() => parseHostJson({ extensions: { durableTask: { hubName: 'bad-hub' } } })).toThrow(
      'hubName',
    );
  });

  it('parses day-qualified time spans', () => {
    expect(parseTimeSpanInMs('1.00:00:01.5', 'x')).toBe(86_401_500);
    expect(() => parseTimeSpanInMs('soon', 'x')).toThrow('time span');
  });
});

describe('loadHostCliConfig', () => {
  it('reads --app and --port, with the body limit from the environment', () => {
    expect(
      loadHostCliConfig(['--app', 'functions', '--port=7071'], {
        ATTEST_HOST_MAX_REQUEST_BODY_BYTES: '1024',
      }),
    ).toEqual({
      appPath: 'functions',
      port: 7071,
      maxRequestBodyInBytes: 1024,
      logLevel: 'info',
    });
  });

  it('reports every problem at once', () => {
    expect(() => loadHostCliConfig(['--port', 'x', '--verbose'], {})).toThrow(
      /unknown argument --verbose; --app is required; port must be an integer/,
    );
  });

  it('names a stray positional and an option given without its value', () => {
    expect(() => loadHostCliConfig(['serve', '--app'], {})).toThrow(
      /unknown argument serve; --app needs a value; --app is required/,
    );
  });

  it('reads the task hub override and whether to join a running hub from the environment', () => {
    expect(
      loadHostCliConfig(['--app', 'functions'], {
        AzureFunctionsJobHost__extensions__durableTask__hubName: 'ScaledHub1',
        ATTEST_HOST_JOIN_TASK_HUB: 'true',
      }),
    ).toMatchObject({ taskHubName: 'ScaledHub1', joinRunningTaskHub: true });
    expect(() =>
      loadHostCliConfig(['--app', 'functions'], {
        AzureFunctionsJobHost__extensions__durableTask__hubName: 'no-dashes',
        ATTEST_HOST_JOIN_TASK_HUB: 'yes',
      }),
    ).toThrow(/hubName must be 3-45 letters.*; ATTEST_HOST_JOIN_TASK_HUB must be true or false/);
  });
});
