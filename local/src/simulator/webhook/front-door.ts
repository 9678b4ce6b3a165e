/**
 * A load balancer in front of a scaled-out recorder: notifications addressed to the recorder's
 * public origin are delivered to one of its instances. `perLeg` keeps each call leg on one
 * instance and gives each new leg the next instance in turn (two legs of a call land on different
 * instances of a two-instance app); `perDelivery` takes the next instance for every delivery.
 * Nothing is routed while no route names the URL's origin.
 */

export const FrontDoorAffinity = {
  perLeg: 'perLeg',
  perDelivery: 'perDelivery',
} as const;
export type FrontDoorAffinity = (typeof FrontDoorAffinity)[keyof typeof FrontDoorAffinity];

export interface FrontDoorRoute {
  /** The origin the recorder gives out (its webhook and `callbackUri`), e.g. `http://127.0.0.1:7071`. */
  readonly publicOrigin: string;
  /** The instances' origins, in turn order. */
  readonly instanceOrigins: readonly string[];
  readonly affinity: FrontDoorAffinity;
}

interface RouteState {
  readonly route: FrontDoorRoute;
  next: number;
  readonly legs: Map<string, number>;
}

/** Checks a route as the control API receives it; returns the problems (none: valid). */
export function validateFrontDoorRoute(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return ['a route must be an object'];
  const route = value as Record<string, unknown>;
  const problems: string[] = [];
  const isOrigin = (text: unknown): boolean => {
    if (typeof text !== 'string') return false;
    try {
      const url = new URL(text);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === text;
    } catch {
      return false;
    }
  };
  if (!isOrigin(route.publicOrigin))
    problems.push('publicOrigin must be an origin like http://127.0.0.1:7071 (no path)');
  const instances = route.instanceOrigins;
  if (!Array.isArray(instances) || instances.length === 0 || !instances.every(isOrigin))
    problems.push('instanceOrigins must be a non-empty list of origins');
  if (
    route.affinity !== FrontDoorAffinity.perLeg &&
    route.affinity !== FrontDoorAffinity.perDelivery
  )
    problems.push('affinity must be perLeg or perDelivery');
  return problems;
}

export class WebhookFrontDoor {
  readonly #routes = new Map<string, RouteState>();

  /** Replaces every route (an empty list delivers to the URLs as given). */
  setRoutes(routes: readonly FrontDoorRoute[]): void {
    this.#routes.clear();
    for (const route of routes)
      this.#routes.set(route.publicOrigin, { route, next: 0, legs: new Map() });
  }

  routes(): FrontDoorRoute[] {
    return [...this.#routes.values()].map((s) => s.route);
  }

  /** The URL to fetch for a delivery of `callId` to `url` (the same URL when no route applies). */
  route(url: string, callId: string): string {
    const target = new URL(url);
    const state = this.#routes.get(target.origin);
    if (state === undefined) return url;
    const count = state.route.instanceOrigins.length;
    let index: number;
    if (state.route.affinity === FrontDoorAffinity.perLeg) {
      const known = state.legs.get(callId);
      index = known ?? state.next++ % count;
      if (known === undefined) state.legs.set(callId, index);
    } else {
      index = state.next++ % count;
    }
    const instance = new URL(state.route.instanceOrigins[index] ?? target.origin);
    target.protocol = instance.protocol;
    target.host = instance.host;
    return target.toString();
  }
}
