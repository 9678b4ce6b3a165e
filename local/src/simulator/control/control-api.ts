/**
 * The simulator's control API under `/_sim/` (Bearer control token; `/_sim/health` is open):
 * start scenario or ad-hoc calls, inject raw notifications, read Graph requests with their schema
 * verdicts, webhook deliveries and call outcomes, read and change the directory and policies,
 * throttle Graph, issue portal user tokens, and move a manual clock.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CallEngine, EngineBehaviour } from '../calls/call-engine';
import type { SimulatedEntra } from '../entra/entra';
import type { GraphCallsApi } from '../graph/calls-api';
import type { GraphDirectoryApi } from '../graph/directory-api';
import type { CompliancePolicy, Directory, PortalRole } from '../policy/model';
import { validateDirectory } from '../policy/policy-engine';
import {
  callSpecProblems,
  resolveScenario,
  ScenarioError,
  TimelineAction,
  type CallSpec,
} from '../scenarios/scenario';
import type { ManualClock, SimClock } from '../util/clock';
import { bearerToken, problem, sendJson } from '../util/http';
import type { WebhookDeliverer } from '../webhook/deliverer';
import { validateFrontDoorRoute, type FrontDoorRoute } from '../webhook/front-door';

export interface ControlApiDeps {
  readonly controlToken: string;
  readonly engine: CallEngine;
  readonly graph: GraphCallsApi;
  /** Graph's directory subset (groups overage fallback). */
  readonly directoryApi: GraphDirectoryApi;
  readonly entra: SimulatedEntra;
  readonly deliverer: WebhookDeliverer;
  readonly clock: SimClock;
  readonly scenarioDir: string;
  readonly getDirectory: () => Directory;
  readonly setDirectory: (directory: Directory) => void;
}

function isManual(clock: SimClock): clock is ManualClock {
  return typeof (clock as Partial<ManualClock>).advance === 'function';
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: text.trim() === '' ? {} : JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export async function handleControl(
  deps: ControlApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  readBody: () => Promise<string>,
): Promise<boolean> {
  const path = url.pathname;
  if (!path.startsWith('/_sim/')) return false;
  if (path === '/_sim/health') {
    sendJson(res, 200, { status: 'ok' });
    return true;
  }
  const token = bearerToken(req) ?? '';
  const expected = Buffer.from(deps.controlToken);
  const given = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    problem(
      res,
      401,
      'SIM_UNAUTHORIZED',
      'The control API needs Authorization: Bearer <control token>.',
    );
    return true;
  }
  const method = req.method ?? 'GET';
  const body = async (): Promise<unknown> => {
    const parsed = parseJson(await readBody());
    if (!parsed.ok) throw new ScenarioError('request body', ['not valid JSON']);
    return parsed.value;
  };
  try {
    let m: RegExpExecArray | null;
    if (method === 'GET' && path === '/_sim/directory') return send(res, 200, deps.getDirectory());
    if (method === 'PUT' && path === '/_sim/directory') {
      const directory = (await body()) as Directory;
      const problems = validateDirectory(directory);
      if (problems.length > 0)
        return send(res, 400, {
          code: 'SIM_INVALID_DIRECTORY',
          message: problems.join('; '),
          status: 400,
        });
      deps.setDirectory(directory);
      return send(res, 200, directory);
    }
    if (method === 'GET' && path === '/_sim/tenants')
      return send(
        res,
        200,
        deps.getDirectory().tenants.map((t) => ({
          id: t.id,
          displayName: t.displayName,
          users: t.users.length,
          policies: t.policies.map((p) => p.identity),
        })),
      );
    if (
      (m = /^\/_sim\/tenants\/([^/]+)\/(users|policies|groups|assignments)$/.exec(path)) &&
      method === 'GET'
    ) {
      const tenant = deps
        .getDirectory()
        .tenants.find((t) => t.id === decodeURIComponent(m?.[1] ?? ''));
      if (!tenant)
        return send(res, 404, { code: 'SIM_NOT_FOUND', message: 'unknown tenant', status: 404 });
      return send(res, 200, tenant[m[2] as 'users' | 'policies' | 'groups' | 'assignments']);
    }
    if ((m = /^\/_sim\/tenants\/([^/]+)\/policies\/([^/]+)$/.exec(path)) && method === 'PUT') {
      const tenantId = decodeURIComponent(m[1] ?? '');
      const identity = decodeURIComponent(m[2] ?? '');
      const policy = { ...((await body()) as CompliancePolicy), identity };
      return upsertTenant(deps, res, tenantId, (t) => ({
        ...t,
        policies: [...t.policies.filter((p) => p.identity !== identity), policy],
      }));
    }
    if ((m = /^\/_sim\/tenants\/([^/]+)\/assignments$/.exec(path)) && method === 'PUT') {
      const assignments = (await body()) as Directory['tenants'][number]['assignments'];
      return upsertTenant(deps, res, decodeURIComponent(m[1] ?? ''), (t) => ({
        ...t,
        assignments,
      }));
    }
    if (method === 'POST' && path === '/_sim/scenarios/run') {
      const b = (await body()) as { scenario?: unknown };
      // Names only: the control API never reads files outside the scenario folder.
      if (
        typeof b.scenario !== 'string' ||
        !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(b.scenario) ||
        b.scenario.endsWith('.json')
      ) {
        return send(res, 400, {
          code: 'SIM_INVALID_REQUEST',
          message: 'scenario must be the name of a file in the scenario folder (without .json)',
          status: 400,
        });
      }
      const scenario = resolveScenario(b.scenario, deps.scenarioDir);
      return send(res, 201, {
        conversationId: deps.engine.startCall(scenario.call),
        scenario: scenario.name,
        expect: scenario.expect ?? null,
      });
    }
    if (method === 'POST' && path === '/_sim/calls') {
      const spec = await body();
      const problems = callSpecProblems(spec, 'call');
      if (problems.length > 0)
        return send(res, 400, {
          code: 'SIM_INVALID_CALL',
          message: problems.join('; '),
          status: 400,
        });
      return send(res, 201, { conversationId: deps.engine.startCall(spec as CallSpec) });
    }
    if (method === 'GET' && path === '/_sim/calls')
      return send(res, 200, deps.engine.listConversations());
    if ((m = /^\/_sim\/calls\/([^/]+)$/.exec(path)) && method === 'GET') {
      const outcome = deps.engine.outcome(decodeURIComponent(m[1] ?? ''));
      return outcome
        ? send(res, 200, outcome)
        : send(res, 404, { code: 'SIM_NOT_FOUND', message: 'unknown conversation', status: 404 });
    }
    if ((m = /^\/_sim\/calls\/([^/]+)\/end$/.exec(path)) && method === 'POST') {
      const ended = deps.engine.endConversation(decodeURIComponent(m[1] ?? ''), 'endedByControl');
      return send(
        res,
        ended ? 200 : 404,
        ended
          ? { ended: true }
          : {
              code: 'SIM_NOT_FOUND',
              message: 'unknown or already ended conversation',
              status: 404,
            },
      );
    }
    if (
      (m = /^\/_sim\/calls\/([^/]+)\/participants\/(\d+)\/([a-zA-Z]+)$/.exec(path)) &&
      method === 'POST'
    ) {
      const action = m[3] ?? '';
      if (!(Object.values(TimelineAction) as string[]).includes(action)) {
        return send(res, 400, {
          code: 'SIM_INVALID_REQUEST',
          message: `action must be one of ${Object.values(TimelineAction).join(', ')}`,
          status: 400,
        });
      }
      const b = (await body()) as { durationInMs?: unknown };
      if (action === 'speak' && (typeof b.durationInMs !== 'number' || b.durationInMs <= 0)) {
        return send(res, 400, {
          code: 'SIM_INVALID_REQUEST',
          message: 'speak needs durationInMs > 0',
          status: 400,
        });
      }
      const applied = deps.engine.act(
        decodeURIComponent(m[1] ?? ''),
        Number(m[2]),
        action as TimelineAction,
        typeof b.durationInMs === 'number' ? b.durationInMs : undefined,
      );
      return applied
        ? send(res, 200, { applied: true })
        : send(res, 404, {
            code: 'SIM_NOT_FOUND',
            message: 'unknown or ended conversation, or no such participant',
            status: 404,
          });
    }
    if (method === 'POST' && path === '/_sim/notifications') {
      const b = (await body()) as { callId?: unknown; body?: unknown };
      if (typeof b.callId !== 'string' || b.body === undefined)
        return send(res, 400, {
          code: 'SIM_INVALID_REQUEST',
          message: 'callId (string) and body (string or JSON) are required',
          status: 400,
        });
      const raw = typeof b.body === 'string' ? b.body : JSON.stringify(b.body);
      const record = await deps.engine.injectRaw(b.callId, raw);
      return record
        ? send(res, 200, record)
        : send(res, 404, { code: 'SIM_NOT_FOUND', message: 'unknown call id', status: 404 });
    }
    if (method === 'GET' && path === '/_sim/graph-requests')
      return send(res, 200, deps.graph.requests);
    if (method === 'GET' && path === '/_sim/deliveries')
      return send(res, 200, deps.deliverer.records);
    if (method === 'GET' && path === '/_sim/webhook-routes')
      return send(res, 200, { routes: deps.deliverer.frontDoor.routes() });
    if (method === 'PUT' && path === '/_sim/webhook-routes') {
      const b = (await body()) as { routes?: unknown };
      const problems = Array.isArray(b.routes)
        ? b.routes.flatMap((r, i) => validateFrontDoorRoute(r).map((p) => `routes[${i}]: ${p}`))
        : ['routes must be a list'];
      if (problems.length > 0)
        return send(res, 400, {
          code: 'SIM_INVALID_REQUEST',
          message: problems.join('; '),
          status: 400,
        });
      deps.deliverer.frontDoor.setRoutes(b.routes as FrontDoorRoute[]);
      return send(res, 200, { routes: deps.deliverer.frontDoor.routes() });
    }
    if (method === 'POST' && path === '/_sim/throttle') {
      const b = (await body()) as { count?: unknown; retryAfterInS?: unknown; operation?: unknown };
      if (typeof b.count !== 'number' || b.count < 0)
        return send(res, 400, {
          code: 'SIM_INVALID_REQUEST',
          message: 'count must be a number >= 0',
          status: 400,
        });
      deps.graph.throttle =
        b.count === 0
          ? undefined
          : {
              remaining: b.count,
              retryAfterInS: typeof b.retryAfterInS === 'number' ? b.retryAfterInS : 2,
              ...(typeof b.operation === 'string' ? { operation: b.operation } : {}),
            };
      return send(res, 200, { throttle: deps.graph.throttle ?? null });
    }
    if (method === 'PATCH' && path === '/_sim/behaviour') {
      deps.engine.setBehaviour((await body()) as Partial<EngineBehaviour>);
      return send(res, 200, deps.engine.behaviour);
    }
    if (method === 'GET' && path === '/_sim/behaviour')
      return send(res, 200, deps.engine.behaviour);
    if (method === 'POST' && path === '/_sim/users/token') {
      const b = (await body()) as {
        tenantId?: unknown;
        userId?: unknown;
        roles?: unknown;
        audience?: unknown;
        groups?: unknown;
        isGroupsOverage?: unknown;
      };
      if (typeof b.tenantId !== 'string' || typeof b.userId !== 'string')
        return send(res, 400, {
          code: 'SIM_INVALID_REQUEST',
          message: 'tenantId and userId are required',
          status: 400,
        });
      const issued = await deps.entra.issueUserToken({
        tenantId: b.tenantId,
        userId: b.userId,
        ...(Array.isArray(b.roles) ? { roles: b.roles as PortalRole[] } : {}),
        ...(typeof b.audience === 'string' ? { audience: b.audience } : {}),
        ...(Array.isArray(b.groups)
          ? { groups: b.groups.filter((g): g is string => typeof g === 'string') }
          : {}),
        ...(b.isGroupsOverage === true ? { isGroupsOverage: true } : {}),
      });
      return issued
        ? send(res, 200, issued)
        : send(res, 404, { code: 'SIM_NOT_FOUND', message: 'unknown tenant or user', status: 404 });
    }
    if (path === '/_sim/graph/directory/fault' && (method === 'PUT' || method === 'DELETE')) {
      if (method === 'DELETE') {
        deps.directoryApi.fault = undefined;
        return send(res, 200, { fault: null });
      }
      const b = (await body()) as { status?: unknown };
      const status = typeof b.status === 'number' ? b.status : 503;
      if (!Number.isInteger(status) || status < 400 || status > 599)
        return send(res, 400, {
          code: 'SIM_INVALID_REQUEST',
          message: 'status must be an HTTP error status (400 to 599)',
          status: 400,
        });
      deps.directoryApi.fault = { status };
      return send(res, 200, { fault: deps.directoryApi.fault });
    }
    if (method === 'POST' && path === '/_sim/clock/advance') {
      if (!isManual(deps.clock))
        return send(res, 409, {
          code: 'SIM_CLOCK_NOT_MANUAL',
          message: 'the simulator runs on the system clock',
          status: 409,
        });
      const b = (await body()) as { ms?: unknown };
      if (typeof b.ms !== 'number' || b.ms < 0)
        return send(res, 400, {
          code: 'SIM_INVALID_REQUEST',
          message: 'ms must be a number >= 0',
          status: 400,
        });
      deps.clock.advance(b.ms);
      return send(res, 200, { now: new Date(deps.clock.nowInMs()).toISOString() });
    }
    return send(res, 404, {
      code: 'SIM_NOT_FOUND',
      message: `no control route ${method} ${path}`,
      status: 404,
    });
  } catch (err) {
    if (err instanceof ScenarioError)
      return send(res, 400, { code: 'SIM_INVALID_SCENARIO', message: err.message, status: 400 });
    if (err instanceof Error && /unknown tenant/.test(err.message))
      return send(res, 400, { code: 'SIM_INVALID_CALL', message: err.message, status: 400 });
    throw err;
  }
}

function send(res: ServerResponse, status: number, body: unknown): true {
  sendJson(res, status, body);
  return true;
}

function upsertTenant(
  deps: ControlApiDeps,
  res: ServerResponse,
  tenantId: string,
  change: (t: Directory['tenants'][number]) => Directory['tenants'][number],
): true {
  const directory = deps.getDirectory();
  if (!directory.tenants.some((t) => t.id === tenantId))
    return send(res, 404, { code: 'SIM_NOT_FOUND', message: 'unknown tenant', status: 404 });
  const next: Directory = {
    ...directory,
    tenants: directory.tenants.map((t) => (t.id === tenantId ? change(t) : t)),
  };
  const problems = validateDirectory(next);
  if (problems.length > 0)
    return send(res, 400, {
      code: 'SIM_INVALID_DIRECTORY',
      message: problems.join('; '),
      status: 400,
    });
  // Policy changes never touch calls in progress: conversations keep the policy they resolved at join.
  deps.setDirectory(next);
  return send(
    res,
    200,
    next.tenants.find((t) => t.id === tenantId),
  );
}
