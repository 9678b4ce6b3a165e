import type { DurableClient } from 'durable-functions';
import { startHarness, type Harness } from './harness';

describe('local durable engine: orchestration patterns through the real SDK', () => {
  let h: Harness;
  let client: DurableClient;
  beforeAll(async () => {
    h = await startHarness();
    client = h.client;
  });
  afterAll(async () => {
    await h.close();
  });

  it('runs a sequence of activities and returns their results in order', async () => {
    const id = await client.startNew('dSequence', { input: 'seq' });
    await h.engine.runUntilIdle();
    const status = await client.getStatus(id);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(['Hello seq1', 'Hello seq2', 'Hello seq3']);
  });
});
