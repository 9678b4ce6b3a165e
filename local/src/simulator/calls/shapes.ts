/**
 * Builders for the pieces of the Graph payloads Teams sends a policy recorder: the
 * `commsNotifications` envelope, identity sets, result infos and roster entries (the incoming call
 * resource is built in `incoming-call.ts`, the notifications in `notices.ts`).
 * Enum casing and the type of `resultInfo` codes follow {@link WireStyle}.
 */

export interface WireStyle {
  /** Docs show camelCase enum values; real traffic shows PascalCase. */
  readonly enumCasing: 'camelCase' | 'PascalCase';
  /** `resultInfo.code/subcode` are Int32 in the schema but strings in the delete example. */
  readonly resultInfoAs: 'number' | 'string';
  /** Whether `applicationMetadata.botData` is an object or a JSON string. */
  readonly botDataAs: 'object' | 'string';
}

export function enumValue(style: WireStyle, value: string): string {
  return style.enumCasing === 'PascalCase' ? value.charAt(0).toUpperCase() + value.slice(1) : value;
}

export interface ResultInfo {
  readonly code: number;
  readonly subcode: number;
  readonly message: string;
}

/** Result codes Teams documents for ended call legs (call-delete.md), as used by the simulator. */
export const ResultCodes = {
  conversationEnded: {
    code: 200,
    subcode: 5001,
    message: 'Call ended since the conversation was ended.',
  },
  removedFromConversation: {
    code: 200,
    subcode: 5003,
    message: 'Call was removed from the conversation.',
  },
  endedByBot: { code: 200, subcode: 7000, message: 'Call ended by the application.' },
  keepAliveTimeout: {
    code: 408,
    subcode: 8537,
    message: 'Call was terminated due to Keep Alive timeout.',
  },
  inviteNotAnswered: { code: 408, subcode: 8544, message: 'Callee could not be reached.' },
  rejectedByBot: { code: 200, subcode: 7001, message: 'Call was rejected by the application.' },
  botMediaConnectivity: {
    code: 500,
    subcode: 1005,
    message: 'Call ended because the bot media connectivity failed.',
  },
  recordingFailed: {
    code: 500,
    subcode: 7106,
    message: 'Call ended because the compliance recording status became failed.',
  },
} as const satisfies Record<string, ResultInfo>;

export function resultInfo(style: WireStyle, info: ResultInfo): Record<string, unknown> {
  const n = (v: number): number | string => (style.resultInfoAs === 'string' ? String(v) : v);
  return {
    '@odata.type': '#microsoft.graph.resultInfo',
    code: n(info.code),
    subcode: n(info.subcode),
    message: info.message,
  };
}

export interface NotificationItem {
  readonly changeType: 'created' | 'updated' | 'deleted';
  /** `/communications/calls/{id}` or `/communications/calls/{id}/participants`. */
  readonly resourceUrl: string;
  readonly resourceData: unknown;
}

/** The documented envelope: `resource` (legacy `/app/calls/...`) and `resourceUrl` on every item. */
export function commsNotifications(
  style: WireStyle,
  items: readonly NotificationItem[],
): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.commsNotifications',
    value: items.map((item) => ({
      '@odata.type': '#microsoft.graph.commsNotification',
      changeType: enumValue(style, item.changeType),
      resource: item.resourceUrl.replace(/^\/communications\//, '/app/'),
      resourceUrl: item.resourceUrl,
      resourceData: item.resourceData,
    })),
  };
}

export type Identity =
  | {
      readonly kind: 'user';
      readonly id: string;
      readonly tenantId: string;
      readonly displayName?: string;
    }
  | { readonly kind: 'phone'; readonly id: string; readonly displayName?: string }
  | { readonly kind: 'guest'; readonly id: string; readonly displayName?: string }
  | {
      readonly kind: 'applicationInstance';
      readonly id: string;
      readonly tenantId: string;
      readonly displayName?: string;
    };

export function identitySet(identity: Identity): Record<string, unknown> {
  const inner: Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.identity',
    id: identity.id,
  };
  if (identity.displayName !== undefined) inner.displayName = identity.displayName;
  if ('tenantId' in identity) inner.tenantId = identity.tenantId;
  if (identity.kind === 'user') inner.identityProvider = 'AAD';
  return { '@odata.type': '#microsoft.graph.identitySet', [identity.kind]: inner };
}

export interface RosterEntry {
  readonly participantId: string;
  readonly identity: Identity;
  readonly region?: string;
  readonly audioMsi: number;
  readonly videoMsi: number;
  readonly vbssMsi: number;
  readonly isMuted: boolean;
  readonly isInLobby: boolean;
  readonly isVideoOn: boolean;
  readonly isSharing: boolean;
  /** Present on the recorder's own participant after updateRecordingStatus. */
  readonly recordingStatus?: string;
  readonly isBot?: boolean;
}

export function participantResource(style: WireStyle, entry: RosterEntry): Record<string, unknown> {
  const stream = (
    mediaType: string,
    label: string,
    sourceId: number,
    direction: string,
  ): Record<string, unknown> => ({
    '@odata.type': '#microsoft.graph.mediaStream',
    mediaType: enumValue(style, mediaType),
    label,
    sourceId: String(sourceId),
    direction: enumValue(style, direction),
    serverMuted: false,
  });
  const streams = entry.isBot
    ? [stream('audio', 'main-audio', entry.audioMsi, 'receiveOnly')]
    : [
        stream('audio', 'main-audio', entry.audioMsi, 'sendReceive'),
        stream(
          'video',
          'main-video',
          entry.videoMsi,
          entry.isVideoOn ? 'sendReceive' : 'receiveOnly',
        ),
        stream(
          'videoBasedScreenSharing',
          'applicationsharing-video',
          entry.vbssMsi,
          entry.isSharing ? 'sendOnly' : 'receiveOnly',
        ),
      ];
  const out: Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.participant',
    id: entry.participantId,
    info: {
      '@odata.type': '#microsoft.graph.participantInfo',
      identity: identitySet(entry.identity),
      endpointType: enumValue(style, 'default'),
      languageId: 'en-US',
      region: entry.region ?? null,
    },
    mediaStreams: streams,
    isMuted: entry.isMuted,
    isInLobby: entry.isInLobby,
  };
  if (entry.recordingStatus !== undefined) {
    out.recordingInfo = {
      '@odata.type': '#microsoft.graph.recordingInfo',
      recordingStatus: enumValue(style, entry.recordingStatus),
    };
  }
  return out;
}
