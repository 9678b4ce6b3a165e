/**
 * The roster of a conversation, as pure functions: a participant's initial state, its roster
 * entry, the roster a recorder leg sees (full, or the delta since the last one sent), and the
 * media script (who speaks and shows video when) derived from the timelines.
 */
import { randomUUID } from 'node:crypto';
import type { MediaScript } from '../media/media-streamer';
import type { Tenant } from '../policy/model';
import type { ScenarioParticipant } from '../scenarios/scenario';
import {
  UserStatus,
  type BotLeg,
  type Conversation,
  type EngineBehaviour,
  type ParticipantState,
} from './call-model';
import { participantResource, type Identity, type RosterEntry } from './shapes';

/** A participant as the conversation starts: not present yet, identity resolved in the tenant. */
export function createParticipant(
  tenant: Tenant,
  spec: ScenarioParticipant,
  index: number,
): ParticipantState {
  const participantId = randomUUID();
  let identity: Identity;
  let userId: string | undefined;
  let region = 'EUWE';
  if (spec.user !== undefined && spec.federatedTenantId === undefined) {
    const user = tenant.users.find((u) => u.id === spec.user);
    identity = {
      kind: 'user',
      id: spec.user,
      tenantId: tenant.id,
      ...(user ? { displayName: user.displayName } : {}),
    };
    userId = user ? spec.user : undefined;
    region = user?.region ?? region;
  } else if (spec.user !== undefined) {
    identity = { kind: 'user', id: spec.user, tenantId: spec.federatedTenantId ?? tenant.id };
  } else if (spec.phone !== undefined) {
    identity = { kind: 'phone', id: spec.phone };
  } else {
    identity = { kind: 'guest', id: randomUUID(), displayName: spec.guest ?? 'Guest' };
  }
  return {
    index,
    participantId,
    spec,
    identity,
    region,
    audioMsi: 100 + index,
    videoMsi: 1100 + index,
    vbssMsi: 2100 + index,
    ...(userId !== undefined ? { userId } : {}),
    runtimeTimeline: [],
    isPresent: false,
    isInLobby: spec.isInLobby === true,
    isMuted: false,
    isVideoOn: false,
    isSharing: false,
    status: userId !== undefined ? UserStatus.notUnderPolicy : UserStatus.notAUser,
  };
}

/** Offset at which the participant joins (0 unless its timeline says otherwise). */
export function joinAt(p: ParticipantState): number {
  return p.spec.timeline?.find((e) => e.action === 'join')?.atInMs ?? 0;
}

export function rosterEntry(p: ParticipantState): RosterEntry {
  return {
    participantId: p.participantId,
    identity: p.identity,
    region: p.region,
    audioMsi: p.audioMsi,
    videoMsi: p.videoMsi,
    vbssMsi: p.vbssMsi,
    isMuted: p.isMuted,
    isInLobby: p.isInLobby,
    isVideoOn: p.isVideoOn,
    isSharing: p.isSharing,
  };
}

/** The full roster a leg sees: present participants, then the recorder itself. */
export function fullRoster(
  behaviour: EngineBehaviour,
  conv: Conversation,
  leg: BotLeg,
): Record<string, unknown>[] {
  const people = conv.participants
    .filter((p) => p.isPresent)
    .map((p) => participantResource(behaviour, rosterEntry(p)));
  const self = participantResource(behaviour, {
    participantId: leg.myParticipantId,
    identity: {
      kind: 'applicationInstance',
      id: leg.instance.id,
      tenantId: leg.instance.tenantId,
    },
    audioMsi: 99,
    videoMsi: 0,
    vbssMsi: 0,
    isMuted: true,
    isInLobby: false,
    isVideoOn: false,
    isSharing: false,
    isBot: true,
    ...(leg.recordingStatus !== 'unknown' ? { recordingStatus: leg.recordingStatus } : {}),
  });
  return [...people, self];
}

/**
 * The roster update to send a leg, or undefined when a delta roster has nothing new. In delta mode
 * (no payload example is published): changed or new entries, and removed ones with removedState,
 * each numbered by a per-leg rosterSequenceNumber; the leg's snapshot and sequence advance.
 */
export function rosterUpdate(
  behaviour: EngineBehaviour,
  conv: Conversation,
  leg: BotLeg,
): Record<string, unknown>[] | undefined {
  const entries = fullRoster(behaviour, conv, leg);
  if (!leg.isDeltaRoster) return entries;
  const changes: Record<string, unknown>[] = [];
  const current = new Set<string>();
  for (const entry of entries) {
    const id = String(entry.id);
    current.add(id);
    const text = JSON.stringify(entry);
    if (leg.rosterSnapshot.get(id) === text) continue;
    leg.rosterSnapshot.set(id, text);
    changes.push({ ...entry, rosterSequenceNumber: ++leg.rosterSequence });
  }
  for (const id of [...leg.rosterSnapshot.keys()]) {
    if (current.has(id)) continue;
    leg.rosterSnapshot.delete(id);
    const wasRemoved =
      conv.participants.find((p) => p.participantId === id)?.removedAtInMs !== undefined;
    changes.push({
      '@odata.type': '#microsoft.graph.participant',
      id,
      removedState: {
        '@odata.type': '#microsoft.graph.removedState',
        reason: wasRemoved ? 'removed' : 'left',
      },
      rosterSequenceNumber: ++leg.rosterSequence,
    });
  }
  return changes.length === 0 ? undefined : changes;
}

/** Who speaks and shows video when, derived from the scripted timelines and removals. */
export function mediaScriptOf(conv: Conversation): MediaScript {
  const timeline = (p: ParticipantState) => [...(p.spec.timeline ?? []), ...p.runtimeTimeline];
  const state = (
    p: ParticipantState,
    at: number,
    on: string,
    off: string,
    initial = false,
  ): boolean => {
    let value = initial;
    for (const e of timeline(p).sort((a, b) => a.atInMs - b.atInMs)) {
      if (e.atInMs > at) break;
      if (e.action === on) value = true;
      if (e.action === off) value = false;
    }
    return value;
  };
  const isIn = (p: ParticipantState, at: number): boolean => {
    if (p.status === UserStatus.blocked && p.removedAtInMs !== undefined) return false;
    if (p.removedAtInMs !== undefined && at >= p.removedAtInMs) return false;
    if (at < joinAt(p)) return false;
    if (state(p, at, 'leave', 'join')) return false;
    const isStillInLobby =
      p.spec.isInLobby === true && !timeline(p).some((e) => e.action === 'admit' && e.atInMs <= at);
    return !isStillInLobby;
  };
  return {
    speakersAt: (at) =>
      conv.participants
        .filter((p) => isIn(p, at) && !state(p, at, 'mute', 'unmute'))
        .filter((p) =>
          timeline(p).some(
            (e) => e.action === 'speak' && e.atInMs <= at && at < e.atInMs + (e.durationInMs ?? 0),
          ),
        )
        .map((p) => p.audioMsi),
    videosAt: (at) =>
      conv.participants
        .filter((p) => isIn(p, at) && state(p, at, 'videoOn', 'videoOff'))
        .map((p) => p.videoMsi),
    sharerAt: (at) =>
      conv.participants.find((p) => isIn(p, at) && state(p, at, 'shareOn', 'shareOff'))?.vbssMsi,
    endOffsetInMs: () => conv.endOffsetInMs,
  };
}
