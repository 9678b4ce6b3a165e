/**
 * Live: the calls being recorded now that the signed-in officer or supervisor may monitor, and
 * listening in from the browser. Each listen asks the admin API for a short-lived grant (audited)
 * and plays the media host's stream through WebAudio within a second of the call.
 */
import { Button, ProgressBar, Text, Title2, Title3 } from '@fluentui/react-components';
import { useEffect, useRef, useState } from 'react';
import type { Api } from '../api';
import { ListTable } from '../components/ListTable';
import { Failure, Loaded } from '../components/State';
import { formatTime } from '../format';
import { createLivePlayer, type ListenStats, type LivePlayer } from '../live-audio';
import { useResource } from '../load';

interface LiveCall {
  readonly callId: string;
  readonly interactionId: string;
  readonly type: string;
  readonly direction: string;
  readonly invitedAt: string;
  readonly recordedUserIds: readonly string[];
}

/** The admin API's listen grant: where to connect and how to present the token. */
interface ListenGrant {
  readonly url: string;
  readonly expiresAt: string;
  /** WebSocket subprotocols carrying the token, when the grant keeps it out of the URL. */
  readonly protocols?: readonly string[];
}

interface Listening {
  readonly callId: string;
  readonly socket: WebSocket;
  readonly player: LivePlayer;
}

export function LivePage(props: { api: Api }) {
  const load = useResource<{ items: LiveCall[] }>(props.api, '/api/archive/live', {
    refreshInMs: 5000,
  });
  const [error, setError] = useState<Error | undefined>();
  const [state, setState] = useState<{ callId: string; phase: string } | undefined>();
  const [stats, setStats] = useState<ListenStats | undefined>();
  const listening = useRef<Listening | undefined>(undefined);

  const stop = async (phase = 'Stopped') => {
    const current = listening.current;
    listening.current = undefined;
    if (current === undefined) return;
    current.socket.close(1000);
    await current.player.close().catch(() => undefined);
    setState({ callId: current.callId, phase });
  };

  useEffect(() => {
    const timer = setInterval(() => {
      if (listening.current !== undefined) setStats(listening.current.player.stats());
    }, 250);
    return () => {
      clearInterval(timer);
      void stop();
    };
  }, []);

  const listen = async (call: LiveCall) => {
    setError(undefined);
    await stop();
    setStats(undefined);
    setState({ callId: call.callId, phase: 'Connecting…' });
    try {
      const grant = await props.api.post<ListenGrant>(
        `/api/archive/calls/${encodeURIComponent(call.callId)}/listen`,
        {},
      );
      const player = await createLivePlayer();
      const socket = new WebSocket(grant.url, grant.protocols ? [...grant.protocols] : undefined);
      socket.binaryType = 'arraybuffer';
      listening.current = { callId: call.callId, socket, player };
      socket.onmessage = (event: MessageEvent<ArrayBuffer | string>) => {
        if (typeof event.data === 'string') {
          setState({ callId: call.callId, phase: 'Listening' });
          return;
        }
        player.push(event.data);
      };
      socket.onclose = (event) => {
        if (listening.current?.socket !== socket) return;
        void stop(event.code === 1000 ? 'The call ended.' : `The stream closed (${event.code}).`);
      };
      socket.onerror = () => setError(new Error('The live stream could not be reached.'));
    } catch (e) {
      setError(e as Error);
      setState(undefined);
    }
  };

  return (
    <>
      <Title2 as="h1">Live</Title2>
      <Text>Calls being recorded now that you may listen in to. Every listen is audited.</Text>
      <Failure error={error} />
      {state === undefined ? null : (
        <section
          aria-label="Listening"
          style={{ display: 'flex', flexDirection: 'column', gap: 8 }}
        >
          <Title3 as="h2">Call {state.callId.slice(0, 8)}</Title3>
          <Text role="status" data-testid="listen-state">
            {state.phase}
          </Text>
          {stats === undefined ? null : (
            <>
              <ProgressBar
                value={Math.min(1, stats.playedLevel * 4)}
                aria-label="Level of the audio played"
              />
              <Text
                data-testid="listen-stats"
                data-frames={stats.framesReceived}
                data-received-level={stats.receivedLevel.toFixed(4)}
                data-played-level={stats.playedLevel.toFixed(4)}
                data-delay-ms={stats.delayInMs}
              >
                {stats.framesReceived} frames received · about {stats.delayInMs} ms behind the call
                in this browser
                {stats.droppedInMs > 0 ? ` · ${stats.droppedInMs} ms skipped to stay live` : ''}
              </Text>
            </>
          )}
          {listening.current === undefined ? null : (
            <Button onClick={() => void stop()} style={{ alignSelf: 'start' }}>
              Stop listening
            </Button>
          )}
        </section>
      )}
      <Loaded
        load={load}
        what="live calls"
        isEmpty={(d) => d.items.length === 0}
        empty="No call you may monitor is being recorded right now."
      >
        {(data) => (
          <ListTable
            label="Live calls"
            rows={data.items}
            rowKey={(call) => call.callId}
            columns={[
              { header: 'Invited', cell: (call) => formatTime(call.invitedAt) },
              { header: 'Type', cell: (call) => `${call.type}, ${call.direction}` },
              { header: 'Recorded users', cell: (call) => call.recordedUserIds.join(', ') },
              {
                header: 'Listen',
                cell: (call) => (
                  <Button
                    appearance="primary"
                    aria-label={`Listen to call ${call.callId.slice(0, 8)}`}
                    onClick={() => void listen(call)}
                  >
                    Listen
                  </Button>
                ),
              },
            ]}
          />
        )}
      </Loaded>
    </>
  );
}
