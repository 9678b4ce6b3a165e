import { defaultServices, loadStartConfig } from './main';

describe('npm start configuration', () => {
  const names = (env: Record<string, string>) =>
    defaultServices(loadStartConfig(env, '/repo')).map((s) => s.name);

  it('runs one function app instance and no front door by default', () => {
    expect(loadStartConfig({}, '/repo').functionInstanceCount).toBe(1);
    expect(names({})).toEqual([
      'azurite',
      'azurite-host',
      'keys',
      'simulator',
      'functions',
      'imds',
      'media-host',
      'media-host-2',
    ]);
  });

  it('starts the further instances after the first, then the front door, so they stop first', () => {
    expect(names({ ATTEST_START_FUNCTION_INSTANCES: '3' })).toEqual([
      'azurite',
      'azurite-host',
      'keys',
      'simulator',
      'functions',
      'functions-2',
      'functions-3',
      'front-door',
      'imds',
      'media-host',
      'media-host-2',
    ]);
  });

  it.each(['0', '5', '1.5', 'two'])('refuses ATTEST_START_FUNCTION_INSTANCES=%s', (value) => {
    expect(() => loadStartConfig({ ATTEST_START_FUNCTION_INSTANCES: value }, '/repo')).toThrow(
      'ATTEST_START_FUNCTION_INSTANCES must be an integer from 1 to 4',
    );
  });
});
