import { createLimiter } from './limiter';

/** A task that resolves when told to, recording when it started. */
function deferredTask(
  started: string[],
  name: string,
): {
  run: () => Promise<string>;
  finish: () => void;
} {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    run: async () => {
      started.push(name);
      await done;
      return name;
    },
    finish: () => finish(),
  };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('createLimiter', () => {
  it('runs no more than the concurrency at once, the rest in arrival order', async () => {
    const limit = createLimiter(2);
    const started: string[] = [];
    const tasks = ['a', 'b', 'c', 'd'].map((name) => deferredTask(started, name));
    const results = tasks.map((t) => limit(t.run));
    await settle();
    expect(started).toEqual(['a', 'b']);
    tasks[1]!.finish();
    await settle();
    expect(started).toEqual(['a', 'b', 'c']);
    tasks[0]!.finish();
    tasks[2]!.finish();
    tasks[3]!.finish();
    await expect(Promise.all(results)).resolves.toEqual(['a', 'b', 'c', 'd']);
  });

  it('frees the slot of a task that fails', async () => {
    const limit = createLimiter(1);
    await expect(limit(() => Promise.reject(new Error('refused')))).rejects.toThrow('refused');
    await expect(limit(() => Promise.resolve(7))).resolves.toBe(7);
  });
});
