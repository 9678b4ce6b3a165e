/**
 * Notices to recorder legs: every webhook notification the simulated Teams sends a recorder (the
 * invite, participant joining and left, state changes, roster updates, termination), signed as
 * Teams signs them and delivered in order per leg (one chain per leg).
 */
import { randomUUID } from 'node:crypto';
import { isMeetingLike } from '../policy/policy-engine';
import type { DeliveryRecord } from '../webhook/deliverer';
import type { BotLeg, CallContext, Conversation, ParticipantState } from './call-model';
import { incomingCall } from './incoming-call';
import { rosterEntry, rosterUpdate } from './roster';
import {
  commsNotifications,
  enumValue,
  identitySet,
  participantResource,
  resultInfo,
  type NotificationItem,
  type ResultInfo,
} from './shapes';

export class LegNotices {
  readonly #ctx: CallContext;

  constructor(ctx: CallContext) {
    this.#ctx = ctx;
  }

  /** Sends the invite (unless the scenario drops it; twice when it duplicates it). */
  invite(conv: Conversation, p: ParticipantState, leg: BotLeg): void {
    const ctx = this.#ctx;
    const body = commsNotifications(ctx.behaviour, [
      {
        changeType: 'created',
        resourceUrl: `/communications/calls/${leg.callId}`,
        resourceData: incomingCall(ctx.behaviour, conv, p, leg, ctx.legs, ctx.now()),
      },
    ]);
    if (conv.spec.delivery?.dropInvite) {
      ctx.event(conv, 'inviteDropped', { callId: leg.callId });
      return;
    }
    const times = conv.spec.delivery?.duplicateInvite ? 2 : 1;
    for (let i = 0; i < times; i += 1) {
      void this.deliver(conv, leg, i === 0 ? 'invite' : 'inviteDuplicate', body, {
        followRedirectsUpdateWebhook: true,
      });
    }
  }

  /**
   * Asks an established leg (answered with participantCapacity) to take one more observed user;
   * resolves with the delivery and the `@odata.type` of the recorder's answer, lower case.
   */
  async participantJoining(
    conv: Conversation,
    p: ParticipantState,
    host: BotLeg,
  ): Promise<{ record: DeliveryRecord; responseType: string }> {
    const behaviour = this.#ctx.behaviour;
    const body = commsNotifications(behaviour, [
      {
        changeType: 'created',
        resourceUrl: `/communications/calls/${host.callId}/participantJoiningNotification`,
        resourceData: {
          '@odata.type': '#microsoft.graph.participantJoiningNotification',
          id: randomUUID(),
          call: {
            '@odata.type': '#microsoft.graph.call',
            id: host.callId,
            callChainId: conv.chainId,
          },
          participantId: p.participantId,
          joiningParticipant: participantResource(behaviour, rosterEntry(p)),
        },
      },
    ]);
    const record = await this.deliver(conv, host, 'participantJoining', body);
    let responseType = '';
    try {
      const parsed = JSON.parse(record.responseBody ?? '') as { '@odata.type'?: unknown };
      responseType =
        typeof parsed['@odata.type'] === 'string' ? parsed['@odata.type'].toLowerCase() : '';
    } catch {
      responseType = '';
    }
    return { record, responseType };
  }

  participantLeft(conv: Conversation, leg: BotLeg, p: ParticipantState): void {
    void this.deliver(
      conv,
      leg,
      'participantLeft',
      commsNotifications(this.#ctx.behaviour, [
        {
          changeType: 'deleted',
          resourceUrl: `/communications/calls/${leg.callId}/participantLeftNotification`,
          resourceData: {
            '@odata.type': '#microsoft.graph.participantLeftNotification',
            id: randomUUID(),
            participantId: p.participantId,
            call: { id: leg.callId },
          },
        },
      ]),
    );
  }

  /** `establishing` then `established` (reversed when the scenario says so). */
  established(conv: Conversation, leg: BotLeg): void {
    const behaviour = this.#ctx.behaviour;
    const establishing = commsNotifications(behaviour, [
      this.#stateUpdate(conv, leg, 'establishing'),
    ]);
    const established = commsNotifications(behaviour, [
      this.#stateUpdate(conv, leg, 'established'),
    ]);
    if (conv.spec.delivery?.establishedBeforeEstablishing) {
      void this.deliver(conv, leg, 'established', established);
      void this.deliver(conv, leg, 'establishing', establishing);
    } else {
      void this.deliver(conv, leg, 'establishing', establishing);
      void this.deliver(conv, leg, 'established', established);
    }
  }

  /** `terminating` (for an established leg) and `terminated` (deleted) with the result. */
  terminated(conv: Conversation, leg: BotLeg, result: ResultInfo, wasEstablished: boolean): void {
    const behaviour = this.#ctx.behaviour;
    const items: NotificationItem[] = [];
    if (wasEstablished)
      items.push({
        changeType: 'updated',
        resourceUrl: `/communications/calls/${leg.callId}`,
        resourceData: {
          '@odata.type': '#microsoft.graph.call',
          '@odata.id': `/app/calls/${leg.callId}`,
          state: enumValue(behaviour, 'terminating'),
        },
      });
    for (const item of items)
      void this.deliver(conv, leg, 'terminating', commsNotifications(behaviour, [item]));
    void this.deliver(
      conv,
      leg,
      'terminated',
      commsNotifications(behaviour, [
        {
          changeType: 'deleted',
          resourceUrl: `/communications/calls/${leg.callId}`,
          resourceData: {
            '@odata.type': '#microsoft.graph.call',
            '@odata.id': `/app/calls/${leg.callId}`,
            state: enumValue(behaviour, 'terminated'),
            resultInfo: resultInfo(behaviour, result),
          },
        },
      ]),
    );
  }

  /** Sends the leg its roster (full, or what changed when it asked for delta rosters). */
  roster(conv: Conversation, leg: BotLeg): void {
    const entries = rosterUpdate(this.#ctx.behaviour, conv, leg);
    if (entries === undefined) return;
    void this.deliver(
      conv,
      leg,
      'roster',
      commsNotifications(this.#ctx.behaviour, [
        {
          changeType: 'updated',
          resourceUrl: `/communications/calls/${leg.callId}/participants`,
          resourceData: entries,
        },
      ]),
    );
  }

  /** Sends every established leg of the conversation its roster. */
  rosterChanged(conv: Conversation): void {
    for (const leg of this.#ctx.legsOf(conv)) {
      if (leg.state === 'established') this.roster(conv, leg);
    }
  }

  /** Delivers a notification to the leg's current notification URL, after its earlier ones. */
  deliver(
    conv: Conversation,
    leg: BotLeg,
    kind: string,
    body: unknown,
    options: { followRedirectsUpdateWebhook?: boolean } = {},
  ): Promise<DeliveryRecord> {
    return this.#inOrder(leg, async () => {
      const record = await this.#ctx.deps.deliverer.deliver({
        callId: leg.callId,
        kind,
        url: leg.callbackUri ?? leg.webhookUrl,
        body,
        bearerToken: await this.#ctx.deps.entra.signWebhookToken(leg.bot.appId, conv.tenant.id),
        chainId: conv.chainId,
      });
      // A 302/307 moves the call to another deployment: later notifications go there too.
      if (
        options.followRedirectsUpdateWebhook &&
        record.redirects.length > 0 &&
        leg.callbackUri === undefined
      )
        leg.webhookUrl = record.finalUrl;
      return record;
    });
  }

  /** Delivers a raw body as given (control API), in order with the leg's notifications. */
  injectRaw(conv: Conversation, leg: BotLeg, rawBody: string): Promise<DeliveryRecord> {
    return this.#inOrder(leg, async () =>
      this.#ctx.deps.deliverer.deliver({
        callId: leg.callId,
        kind: 'injected',
        url: leg.callbackUri ?? leg.webhookUrl,
        body: undefined,
        rawBody,
        bearerToken: await this.#ctx.deps.entra.signWebhookToken(leg.bot.appId, conv.tenant.id),
        chainId: conv.chainId,
      }),
    );
  }

  #inOrder(leg: BotLeg, run: () => Promise<DeliveryRecord>): Promise<DeliveryRecord> {
    const next = leg.chain.then(run, run);
    leg.chain = next.catch(() => undefined);
    return next;
  }

  #stateUpdate(conv: Conversation, leg: BotLeg, state: string): NotificationItem {
    const behaviour = this.#ctx.behaviour;
    const data: Record<string, unknown> = {
      '@odata.type': '#microsoft.graph.call',
      '@odata.id': `/app/calls/${leg.callId}`,
      '@odata.etag': `W/"${randomUUID()}"`,
      state: enumValue(behaviour, state),
    };
    if (state === 'establishing' && isMeetingLike(conv.spec.kind)) {
      const organizer =
        conv.participants.find((p) => p.spec.role === 'organizer') ?? conv.participants[0];
      if (organizer)
        data.meetingInfo = {
          '@odata.type': '#microsoft.graph.organizerMeetingInfo',
          organizer: identitySet(organizer.identity),
        };
      data.chatInfo = {
        '@odata.type': '#microsoft.graph.chatInfo',
        threadId: conv.threadId,
        messageId: '0',
      };
    }
    if (state === 'established')
      data.mediaState = {
        '@odata.type': '#microsoft.graph.callMediaState',
        audio: enumValue(behaviour, 'active'),
      };
    return {
      changeType: 'updated',
      resourceUrl: `/communications/calls/${leg.callId}`,
      resourceData: data,
    };
  }
}
