import type { GraphCalls, GraphResult, MediaHostControl } from '../domain/recorder-ports';
import { structuredLog } from '../logging/structured-log';
import { createRecorderActivities, type RecorderActivityDeps } from './recorder.activities';

const quiet = (): void => undefined;
const session = { hostId: 'mh-1', controlUrl: 'http://127.0.0.1:1', sessionId: 's-1' };

function activitiesWith(graphResult: GraphResult, persist: () => Promise<unknown>) {
  const steps: string[] = [];
  const graph = {
    updateRecordingStatus: (_tenant: string, _call: string, status: string) => {
      steps.push(`graph:${status}`);
      return Promise.resolve(graphResult);
    },
  } as unknown as GraphCalls;
  const media = {
    startPersisting: (_session: unknown, confirmedAt: string) => {
      steps.push(`persist:${Number.isNaN(Date.parse(confirmedAt)) ? 'bad time' : 'at time'}`);
      return persist();
    },
  } as unknown as MediaHostControl;
  const deps = {
    graph,
    media,
    interactions: {},
    archive: {},
    log: structuredLog({ debug: quiet, info: quiet, warn: quiet, error: quiet }),
  } as unknown as RecorderActivityDeps;
  return { activities: createRecorderActivities(deps), steps };
}

describe('recorder activities: startRecording (callLifecycleV2)', () => {
  it('asks the media host to persist only after Graph confirmed the recording status', async () => {
    const { activities, steps } = activitiesWith({ kind: 'ok', status: 200 }, () =>
      Promise.resolve({ state: 'persisting' }),
    );
    await expect(
      activities.startRecording({ tenantId: 't', callId: 'c', session }),
    ).resolves.toEqual({
      graph: { kind: 'ok', status: 200 },
      persisted: { ok: true, state: 'persisting' },
    });
    expect(steps).toEqual(['graph:recording', 'persist:at time']);
  });

  it.each<GraphResult>([
    { kind: 'throttled', retryAfterInMs: 3000 },
    { kind: 'failed', status: 500, isRetryable: true },
    { kind: 'notFound' },
  ])('never persists when Graph answers $kind', async (graphResult) => {
    const { activities, steps } = activitiesWith(graphResult, () =>
      Promise.resolve({ state: 'persisting' }),
    );
    await expect(
      activities.startRecording({ tenantId: 't', callId: 'c', session }),
    ).resolves.toEqual({ graph: graphResult });
    expect(steps).toEqual(['graph:recording']);
  });

  it('returns the media host failure after Graph confirmed (the lifecycle then sets failed status)', async () => {
    const { activities } = activitiesWith({ kind: 'ok', status: 200 }, () =>
      Promise.reject(
        Object.assign(new Error('[ATT_MEDIA_HOST_UNAVAILABLE] down'), {
          code: 'ATT_MEDIA_HOST_UNAVAILABLE',
        }),
      ),
    );
    const result = await activities.startRecording({ tenantId: 't', callId: 'c', session });
    expect(result.graph).toEqual({ kind: 'ok', status: 200 });
    expect(result.persisted).toMatchObject({ ok: false });
  });
});

describe('recorder activities: checkMediaSession', () => {
  const withHost = (isHeartbeating: boolean) => {
    const asked: string[] = [];
    const deps = {
      graph: {},
      media: {
        getSession: () => {
          asked.push('getSession');
          return Promise.resolve({ state: 'persisting' });
        },
      },
      interactions: {},
      archive: {},
      log: structuredLog({ debug: quiet, info: quiet, warn: quiet, error: quiet }),
      isHeartbeating: (hostId: string) => {
        asked.push(`heartbeat:${hostId}`);
        return Promise.resolve(isHeartbeating);
      },
    } as unknown as RecorderActivityDeps;
    return { activities: createRecorderActivities(deps), asked };
  };

  it('reports the session lost when its host stopped heartbeating, even if it still answers', async () => {
    const { activities, asked } = withHost(false);
    await expect(activities.checkMediaSession({ session })).resolves.toEqual({
      ok: false,
      reason: 'mediaHostHeartbeatLost',
    });
    expect(asked).toEqual(['heartbeat:mh-1']);
  });

  it('asks the host for the session while its heartbeats arrive', async () => {
    const { activities, asked } = withHost(true);
    await expect(activities.checkMediaSession({ session })).resolves.toEqual({
      ok: true,
      state: 'persisting',
    });
    expect(asked).toEqual(['heartbeat:mh-1', 'getSession']);
  });
});
