/**
 * What an incoming policy invite says about the interaction: who is recorded, what kind of
 * call it is, its direction and numbers. Pure; tolerant of missing fields.
 */
import type { CallDirection, InteractionType } from '../interaction';
import type { ParticipantIdentityKind } from '../control-api';
import {
  arrayProp,
  isJsonObject,
  objectProp,
  prop,
  stringProp,
  type JsonObject,
} from './comms-notifications';

export interface IdentityRef {
  readonly kind: ParticipantIdentityKind;
  /** Entra object id, phone number (E.164) or guest/app id. Phone numbers are personal data. */
  readonly id?: string;
  readonly tenantId?: string;
  /** Personal data. */
  readonly displayName?: string;
}

export type InviteAnalysis =
  | { readonly isPolicyInvite: false; readonly reason: string; readonly tenantId?: string }
  | PolicyInvite;

export interface PolicyInvite {
  readonly isPolicyInvite: true;
  readonly tenantId?: string;
  readonly callChainId?: string;
  readonly observedParticipantId: string;
  /** The recorded (observed) user. */
  readonly recorded: IdentityRef;
  /** Object ids of the recorded users (the observed user, plus a delegate's principal). */
  readonly recordedUserIds: readonly string[];
  /** Present when the recorded user acts as a delegate. */
  readonly onBehalfOf?: IdentityRef;
  /** Present when the invite follows a transfer. */
  readonly transferor?: IdentityRef;
  readonly type: InteractionType;
  readonly direction: CallDirection;
  readonly meetingId?: string;
  readonly joinWebUrl?: string;
  readonly dialedNumber?: string;
  readonly originNumber?: string;
  /** Graph's media region hint (`mediaHostedRegion`, `USEA`...) or the user's region. */
  readonly region?: string;
  readonly isMeeting: boolean;
  /** More than two parties (group call or meeting): policy users may be grouped (`participantCapacity`). */
  readonly isMultiParty: boolean;
  /**
   * Present when Teams invited this recorder with siblings of the same policy application
   * (`ConcurrentInvitationCount = 2` or a paired application: botData `pairedRecorders`).
   */
  readonly pairing?: InvitePairing;
}

/** This leg among the recorder legs Teams invited for the same observed participant. */
export interface InvitePairing {
  /** Position of this leg among all legs, ordered by their participant ids (0 first). */
  readonly legIndex: number;
  /** How many legs Teams invited (this one included). */
  readonly legCount: number;
}

/**
 * Meeting facts of a call resource. Invites often carry only `tokenMeetingInfo` (for P2P calls
 * too); a meeting leg's `establishing` update adds `chatInfo` and `organizerMeetingInfo`.
 */
export function meetingFactsOf(call: JsonObject): {
  readonly isMeeting: boolean;
  readonly meetingId?: string;
  readonly joinWebUrl?: string;
} {
  const meetingInfo = objectProp(call, 'meetingInfo');
  const threadId = stringProp(objectProp(call, 'chatInfo'), 'threadId');
  const meetingType = (stringProp(meetingInfo, '@odata.type') ?? '').toLowerCase();
  const joinMeetingId = stringProp(meetingInfo, 'joinMeetingId');
  const isMeeting =
    (threadId !== undefined && /meeting_/i.test(threadId)) ||
    meetingType.endsWith('organizermeetinginfo') ||
    meetingType.endsWith('joinmeetingidmeetinginfo') ||
    joinMeetingId !== undefined;
  return {
    isMeeting,
    meetingId: threadId ?? joinMeetingId,
    joinWebUrl: stringProp(meetingInfo, 'joinWebUrl') ?? stringProp(call, 'joinWebUrl'),
  };
}

/** Reads the identity of a `participantInfo`/`identitySet`, whatever its kind. */
export function identityOf(identitySet: JsonObject | undefined): IdentityRef {
  if (identitySet === undefined) return { kind: 'unknown' };
  const pick = (key: string, kind: ParticipantIdentityKind): IdentityRef | undefined => {
    const entry = objectProp(identitySet, key);
    if (entry === undefined) return undefined;
    return {
      kind,
      id: stringProp(entry, 'id'),
      tenantId: stringProp(entry, 'tenantId'),
      displayName: stringProp(entry, 'displayName'),
    };
  };
  return (
    pick('user', 'user') ??
    pick('phone', 'phone') ??
    pick('guest', 'guest') ??
    pick('applicationInstance', 'application') ??
    pick('application', 'application') ??
    pick('acsUser', 'user') ?? { kind: 'unknown' }
  );
}

function participantId(info: JsonObject | undefined): string | undefined {
  return stringProp(info, 'id') ?? stringProp(info, 'participantId');
}

const broadcastHint = /broadcast|townhall|town hall|webinar|liveevent|live event/i;

export function analyseInvite(call: JsonObject): InviteAnalysis {
  const source = objectProp(call, 'source');
  const targets = arrayProp(call, 'targets').filter(isJsonObject);
  const context = objectProp(call, 'incomingContext');
  const botData = parseBotData(call);
  const botUser = objectProp(botData, 'user');
  const sourceIdentity = identityOf(objectProp(source, 'identity'));
  const tenantId =
    stringProp(call, 'tenantId') ??
    sourceIdentity.tenantId ??
    stringProp(botUser, 'policyHolderTenantId');

  const observed = stringProp(context, 'observedParticipantId');
  if (observed === undefined) {
    return { isPolicyInvite: false, reason: 'noObservedParticipant', tenantId };
  }

  let recordedInfo: JsonObject | undefined;
  if (
    participantId(source) === observed ||
    stringProp(context, 'sourceParticipantId') === observed
  ) {
    recordedInfo = source;
  } else {
    recordedInfo = targets.find((target) => participantId(target) === observed);
  }
  let recorded = identityOf(objectProp(recordedInfo ?? source, 'identity'));
  const policyHolderId = stringProp(botUser, 'policyHolderId');
  if (recorded.kind === 'unknown' && policyHolderId !== undefined) {
    recorded = {
      kind: 'user',
      id: policyHolderId,
      tenantId: stringProp(botUser, 'policyHolderTenantId'),
    };
  }
  const onBehalfOfSet = objectProp(context, 'onBehalfOf');
  const transferorSet = objectProp(context, 'transferor');
  const onBehalfOf = onBehalfOfSet === undefined ? undefined : identityOf(onBehalfOfSet);
  const transferor = transferorSet === undefined ? undefined : identityOf(transferorSet);

  const recordedUserIds = [recorded, onBehalfOf]
    .filter(
      (identity): identity is IdentityRef => identity?.kind === 'user' && identity.id !== undefined,
    )
    .map((identity) => identity.id as string);

  const meetingInfo = objectProp(call, 'meetingInfo');
  const meetingType = (stringProp(meetingInfo, '@odata.type') ?? '').toLowerCase();
  const isMultiParty =
    prop(botData, 'isMultiParty') === true ||
    String(prop(botData, 'isMultiParty')).toLowerCase() === 'true';
  const meeting = meetingFactsOf(call);
  const { isMeeting } = meeting;

  const parties: IdentityRef[] = [
    sourceIdentity,
    ...targets.map((t) => identityOf(objectProp(t, 'identity'))),
  ];
  const otherSide = objectProp(botData, 'otherSideUser');
  const otherSideId = stringProp(otherSide, 'id');
  const otherPhoneFromBotData =
    otherSideId?.startsWith('4:') === true ? otherSideId.slice(2) : undefined;
  const otherPhone =
    parties.find((party) => party.kind === 'phone' && party.id !== recorded.id)?.id ??
    otherPhoneFromBotData;
  const ownPhone = recorded.kind === 'phone' ? recorded.id : undefined;

  const hints = [
    stringProp(call, 'meetingCapability'),
    stringProp(botData, 'applicationType'),
    meetingType,
  ]
    .filter((h): h is string => h !== undefined)
    .join(' ');
  let type: InteractionType;
  if (broadcastHint.test(hints) || prop(meetingInfo, 'isBroadcast') === true) type = 'broadcast';
  else if (isMeeting) type = 'meeting';
  else if (otherPhone !== undefined || ownPhone !== undefined) type = 'pstn';
  else if (isMultiParty) type = 'groupCall';
  else type = 'p2p';

  const method = (stringProp(botUser, 'participationMethod') ?? '').toLowerCase();
  const directionRaw = (stringProp(call, 'direction') ?? '').toLowerCase();
  let direction: CallDirection = 'unknown';
  if (method === 'caller') direction = 'outbound';
  else if (method === 'callee') direction = 'inbound';
  else if (type === 'pstn' && sourceIdentity.kind === 'phone') direction = 'inbound';
  else if (directionRaw === 'outgoing') direction = 'outbound';

  const isInbound = direction === 'inbound';
  return {
    isPolicyInvite: true,
    tenantId,
    callChainId: stringProp(call, 'callChainId'),
    observedParticipantId: observed,
    recorded,
    recordedUserIds,
    onBehalfOf,
    transferor,
    type,
    direction,
    meetingId: meeting.meetingId,
    joinWebUrl: meeting.joinWebUrl,
    dialedNumber: type === 'pstn' ? (isInbound ? ownPhone : otherPhone) : undefined,
    originNumber: type === 'pstn' ? (isInbound ? otherPhone : ownPhone) : undefined,
    region:
      stringProp(botData, 'mediaHostedRegion') ??
      stringProp(call, 'mediaHostedRegion') ??
      stringProp(source, 'region'),
    isMeeting: type === 'meeting' || type === 'broadcast',
    isMultiParty: isMultiParty || isMeeting,
    ...pairingOf(call, botData),
  };
}

/** The leg's place among its paired recorders (botData `pairedRecorders` and `myParticipantId`). */
function pairingOf(
  call: JsonObject,
  botData: JsonObject | undefined,
): { readonly pairing?: InvitePairing } {
  const own = stringProp(call, 'myParticipantId');
  const siblings = arrayProp(botData, 'pairedRecorders')
    .filter(isJsonObject)
    .map((recorder) => stringProp(recorder, 'participantId'))
    .filter((id): id is string => id !== undefined && id !== own);
  if (own === undefined || siblings.length === 0) return {};
  const legs = [...new Set([own, ...siblings])].sort();
  return { pairing: { legIndex: legs.indexOf(own), legCount: legs.length } };
}

/** `applicationMetadata.botData` may be an object or a JSON string. */
function parseBotData(call: JsonObject): JsonObject | undefined {
  const metadata = objectProp(call, 'applicationMetadata');
  const botData = prop(metadata, 'botData');
  if (isJsonObject(botData)) return botData;
  if (typeof botData === 'string') {
    try {
      const parsed: unknown = JSON.parse(botData);
      return isJsonObject(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
