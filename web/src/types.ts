/** Shapes the admin API answers with (the server owns them; these are the fields the pages read). */
export interface Gap {
  readonly streamId?: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly reason: string;
}

export interface CallRow {
  readonly tenantId: string;
  readonly interactionId: string;
  readonly callId: string;
  readonly callChainId?: string;
  readonly type: string;
  readonly direction: string;
  readonly outcome: string;
  readonly outcomeReason?: string;
  readonly invitedAt: string;
  readonly answeredAt?: string;
  readonly endedAt?: string;
  readonly recordedUserIds: readonly string[];
  readonly dialedNumber?: string;
  readonly originNumber?: string;
  readonly resultCode?: number;
  readonly resultSubcode?: number;
  readonly recordingStatusHistory: readonly { status: string; at: string; isConfirmed: boolean }[];
  readonly gaps: readonly Gap[];
  readonly mediaHostId?: string;
  readonly mediaSessionId?: string;
  readonly region?: string;
  readonly manifestSha256?: string;
  readonly sealedAt?: string;
  readonly retentionClass?: string;
  readonly expiresAt?: string;
  readonly customData?: Readonly<Record<string, unknown>>;
}

export interface Participant {
  readonly participantId: string;
  readonly identityKind: string;
  readonly identityId?: string;
  readonly displayName?: string;
  readonly role?: string;
  readonly joinedAt?: string;
  readonly leftAt?: string;
  readonly msis: readonly string[];
}

export interface HistoryEvent {
  readonly EventType?: string;
  readonly Timestamp?: string;
  readonly Name?: string;
  readonly FunctionName?: string;
  readonly eventType?: string;
  readonly timestamp?: string;
  readonly name?: string;
}

export interface CallView {
  readonly callId: string;
  readonly interaction?: CallRow;
  readonly orchestration?: {
    readonly runtimeStatus?: string;
    readonly createdTime?: string;
    readonly lastUpdatedTime?: string;
    readonly customStatus?: unknown;
    readonly output?: unknown;
    readonly history?: readonly HistoryEvent[];
  };
  readonly participants: readonly Participant[];
  readonly streams: readonly {
    streamId: string;
    kind: string;
    msi: string;
    bytes: number;
    durationInMs: number;
  }[];
  readonly relatedInteractionIds: readonly string[];
}

export interface ManifestBlock {
  readonly index: number;
  readonly offset: number;
  readonly length: number;
  readonly sha256: string;
  readonly storedOffset: number;
  readonly storedLength: number;
  readonly storedSha256: string;
  readonly chainSha256: string;
}

export interface ManifestStream {
  readonly streamId: string;
  readonly kind: 'audio' | 'video' | 'vbss';
  readonly msi: string;
  readonly participantId?: string;
  readonly contentType: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly durationInMs: number;
  readonly plaintextBytes: number;
  readonly storedBytes: number;
  readonly blocks: readonly ManifestBlock[];
  readonly chainHeadSha256: string;
  readonly firstTimestamp100ns: string;
  readonly lastTimestamp100ns: string;
  /** The first frame and every jump in timestamps (silence or a pause is not stored). */
  readonly timeline?: readonly { readonly mediaInMs: number; readonly timestamp100ns: string }[];
}

export interface Manifest {
  readonly interactionId: string;
  readonly tenantId: string;
  readonly signingKeyId: string;
  readonly startedAt: string;
  readonly endedAt: string;
  readonly participants: readonly {
    participantId: string;
    identityId?: string;
    msis: readonly string[];
  }[];
  readonly streams: readonly ManifestStream[];
  readonly gaps: readonly Gap[];
  readonly merkleRootSha256: string;
}

/** The signed record of an interaction made of several captures (paired recorders). */
export interface InteractionManifest {
  readonly kind: 'interaction';
  readonly interactionId: string;
  readonly tenantId: string;
  readonly signingKeyId: string;
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly captures: readonly {
    readonly captureId: string;
    readonly legIndex: number;
    readonly mediaHostId?: string;
    readonly manifestSha256?: string;
  }[];
  readonly timeline: readonly {
    readonly startedAt: string;
    readonly endedAt: string;
    readonly captureId?: string;
  }[];
  readonly gaps: readonly Gap[];
}

/** What plays each interval of each lane (GET …/playback): a lane per speaker or source. */
export interface PlaybackPlan {
  readonly kind: 'captures' | 'recording';
  readonly startedAt?: string;
  readonly endedAt?: string;
  readonly captureIds: readonly string[];
  readonly lanes: readonly {
    readonly laneId: string;
    readonly kind: 'audio' | 'video' | 'vbss';
    readonly msi: string;
    readonly participantId?: string;
    readonly segments: readonly {
      readonly captureId: string;
      readonly streamId: string;
      readonly startedAt: string;
      readonly endedAt: string;
    }[];
  }[];
}

export interface Hold {
  readonly holdId: string;
  readonly matterId: string;
  readonly description: string;
  readonly custodian: string;
  readonly scope: Readonly<Record<string, unknown>>;
  readonly status?: string;
  readonly createdAt?: string;
  readonly releasedAt?: string;
  readonly isActive?: boolean;
}

export interface LedgerEntry {
  readonly seq: number;
  readonly at?: string;
  readonly timestamp?: string;
  readonly kind: string;
  readonly actor: string;
  readonly tenantId?: string;
  readonly subjectType: string;
  readonly subjectId: string;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly entryHash?: string;
  readonly prevHash?: string;
}
