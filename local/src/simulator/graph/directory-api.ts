/**
 * The Graph v1.0 directory subset a recorder reads for the groups overage fallback: a user's
 * transitive group membership, `POST /v1.0/users/{id}/getMemberObjects` and
 * `POST /v1.0/users/{id}/getMemberGroups` (body `{ securityEnabledOnly }`, answer `{ value: [ids] }`)
 * and `GET /v1.0/users/{id}/transitiveMemberOf` (answer `{ value: [{ '@odata.type', id }] }`).
 * Authenticated with a simulator-issued app token of the user's tenant (`tid`). A fault can be set
 * (`fault`) to answer every directory request with an error, as Graph does during an outage.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatedEntra } from '../entra/entra';
import type { Directory, Tenant } from '../policy/model';
import { bearerToken, graphError, sendJson } from '../util/http';

export interface DirectoryRequestRecord {
  readonly operation: string;
  readonly tenantId: string;
  readonly userId: string;
  readonly status: number;
}

export interface DirectoryFault {
  /** HTTP status every directory request answers (e.g. 503). */
  readonly status: number;
}

export interface GraphDirectoryApiDeps {
  readonly entra: SimulatedEntra;
  readonly directory: () => Directory;
}

const ROUTE =
  /^\/v1\.0\/users\/([^/]+)\/(?:microsoft\.graph\.)?(getMemberObjects|getMemberGroups|transitiveMemberOf)\/?$/i;

/** Group ids the member is in, directly or through nested groups. */
export function transitiveGroupIds(tenant: Tenant, memberId: string): string[] {
  const found = new Set<string>();
  let frontier = [memberId];
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const group of tenant.groups)
      if (!found.has(group.id) && frontier.some((id) => group.memberIds.includes(id))) {
        found.add(group.id);
        next.push(group.id);
      }
    frontier = next;
  }
  return [...found];
}

export class GraphDirectoryApi {
  readonly requests: DirectoryRequestRecord[] = [];
  fault: DirectoryFault | undefined;
  readonly #deps: GraphDirectoryApiDeps;

  constructor(deps: GraphDirectoryApiDeps) {
    this.#deps = deps;
  }

  /** Returns false when the path is not a directory route. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const match = ROUTE.exec(url.pathname);
    if (match === null) return false;
    const userId = decodeURIComponent(match[1] ?? '');
    const name = (match[2] ?? '').toLowerCase();
    const operation =
      name === 'getmemberobjects'
        ? 'getMemberObjects'
        : name === 'getmembergroups'
          ? 'getMemberGroups'
          : 'transitiveMemberOf';
    const method = req.method ?? 'GET';
    const token = bearerToken(req);
    const check = token === undefined ? undefined : await this.#deps.entra.verifyGraphToken(token);
    const tenantId =
      check?.ok === true && typeof check.claims.tid === 'string' ? check.claims.tid : '';
    const reply = (status: number, payload: unknown): true => {
      this.requests.push({ operation, tenantId, userId, status });
      sendJson(res, status, payload);
      return true;
    };
    if (check === undefined || !check.ok)
      return reply(
        401,
        graphError('InvalidAuthenticationToken', 'Access token validation failure.'),
      );
    if ((operation === 'transitiveMemberOf') !== (method === 'GET'))
      return reply(405, graphError('Request_BadRequest', `${method} is not allowed here.`));
    if (this.fault !== undefined)
      return reply(
        this.fault.status,
        graphError('ServiceUnavailable', 'The directory service is temporarily unavailable.'),
      );
    const tenant = this.#deps.directory().tenants.find((t) => t.id === tenantId);
    if (tenant === undefined || !tenant.users.some((u) => u.id === userId))
      return reply(
        404,
        graphError('Request_ResourceNotFound', `Resource '${userId}' does not exist.`),
      );
    const groupIds = transitiveGroupIds(tenant, userId);
    return operation === 'transitiveMemberOf'
      ? reply(200, {
          value: groupIds.map((id) => ({ '@odata.type': '#microsoft.graph.group', id })),
        })
      : reply(200, { value: groupIds });
  }
}
