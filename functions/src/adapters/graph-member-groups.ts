/**
 * A user's transitive security-group membership from Microsoft Graph
 * (`POST /users/{id}/getMemberObjects` with `securityEnabledOnly: true`), read when a caller's
 * token carries the groups overage claim instead of its groups. Needs the application permission
 * `GroupMember.Read.All` (or `Directory.Read.All`) in each served tenant. Answers are cached per
 * tenant and user for a short time, so one portal page does not ask Graph once per request.
 */
import type { Client } from '@microsoft/microsoft-graph-client';
import type { MemberGroupsLookup } from '../domain/archive-ports';

export interface GraphMemberGroupsOptions {
  /** A Graph client with an app-only token of the given tenant. */
  readonly clientFor: (tenantId: string) => Client;
  /** How long an answer is reused. Default 5 minutes. */
  readonly cacheTtlInMs?: number;
  readonly timeoutInMs: number;
  readonly now?: () => number;
}

export class GraphMemberGroups implements MemberGroupsLookup {
  readonly #options: GraphMemberGroupsOptions;
  readonly #cache = new Map<
    string,
    { readonly groupIds: readonly string[]; readonly at: number }
  >();

  constructor(options: GraphMemberGroupsOptions) {
    this.#options = options;
  }

  async memberGroupsOf(tenantId: string, userId: string): Promise<readonly string[]> {
    const now = (this.#options.now ?? Date.now)();
    const key = `${tenantId}\u0000${userId}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined && now - cached.at < (this.#options.cacheTtlInMs ?? 300_000))
      return cached.groupIds;
    const answer = (await this.#options
      .clientFor(tenantId)
      .api(`/users/${encodeURIComponent(userId)}/getMemberObjects`)
      .options({ signal: AbortSignal.timeout(this.#options.timeoutInMs) })
      .post({ securityEnabledOnly: true })) as { value?: unknown };
    if (!Array.isArray(answer.value))
      throw new Error('graph getMemberObjects answered without a value array');
    const groupIds = answer.value.filter((id): id is string => typeof id === 'string');
    this.#cache.set(key, { groupIds, at: now });
    return groupIds;
  }
}
