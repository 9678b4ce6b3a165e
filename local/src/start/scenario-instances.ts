/**
 * What `npm run scenario` checks when a scenario's call is to reach several instances of the
 * function app (`fleet.functionInstances`): before the call, that `npm start` runs that many
 * behind the simulator's front door (`ATTEST_START_FUNCTION_INSTANCES`); after it, that each
 * leg's webhook deliveries went to one instance and the legs to different ones (the simulator
 * records where it delivered: `routedUrl`), and that the legs built one sealed, recorded
 * interaction with a capture per leg. Says what happened in plain lines.
 */

export interface InstancesContext {
  readonly simulatorUrl: string;
  /** The simulator control API's headers (bearer control token). */
  readonly controlHeaders: Readonly<Record<string, string>>;
  readonly functionsUrl: string;
  /** An admin's bearer token for the function app. */
  readonly token: string;
  readonly write: (line: string) => void;
  readonly pollIntervalInMs: number;
  /** How long to wait for the paired interaction's seal. */
  readonly sealTimeoutInMs: number;
}

interface Delivery {
  readonly callId: string;
  readonly url: string;
  readonly routedUrl?: string;
  readonly isDelivered: boolean;
}

interface PairedInteraction {
  readonly outcome: string;
  readonly manifestSha256?: string;
  readonly captures?: readonly { readonly captureId: string; readonly mediaHostId?: string }[];
}

export interface CaptureRow {
  readonly interactionId: string;
  readonly outcome: string;
  readonly pairedInteractionId?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function getJson<T>(url: string, headers: Record<string, string>, what: string) {
  const response = await fetch(url, { headers });
  const text = await response.text();
  if (!response.ok) throw new Error(`${what} answered ${response.status}: ${text.slice(0, 200)}`);
  return { status: response.status, body: JSON.parse(text) as T };
}

/**
 * The instances the front door spreads the function app's webhook over; a one-line failure
 * (how to start enough of them) when fewer than `count`.
 */
export async function instancesBehindFrontDoor(
  context: InstancesContext,
  count: number,
): Promise<{ origins: string[] } | { failure: string }> {
  const { body } = await getJson<{ routes: { publicOrigin: string; instanceOrigins: string[] }[] }>(
    `${context.simulatorUrl}/_sim/webhook-routes`,
    { ...context.controlHeaders },
    'the simulator',
  );
  const origin = new URL(context.functionsUrl).origin;
  const origins = body.routes.find((r) => r.publicOrigin === origin)?.instanceOrigins ?? [origin];
  if (origins.length >= count) return { origins };
  return {
    failure: `this scenario needs ${count} function app instances and npm start runs ${origins.length}: start it with ATTEST_START_FUNCTION_INSTANCES=${count} npm start`,
  };
}

/** Each leg's deliveries went to one instance, and the legs to `count` different instances. */
export async function judgeLegInstances(
  context: InstancesContext,
  callIds: readonly string[],
  count: number,
): Promise<string[]> {
  const { body: records } = await getJson<Delivery[]>(
    `${context.simulatorUrl}/_sim/deliveries`,
    { ...context.controlHeaders },
    'the simulator',
  );
  const failures: string[] = [];
  const legInstances: string[] = [];
  for (const callId of callIds) {
    const deliveries = records.filter((d) => d.callId === callId);
    if (deliveries.length === 0) continue;
    const instances = [...new Set(deliveries.map((d) => new URL(d.routedUrl ?? d.url).origin))];
    const undelivered = deliveries.filter((d) => !d.isDelivered).length;
    context.write(
      `  function instances: leg ${callId}: ${deliveries.length} deliveries to ${instances.join(', ')}` +
        `${undelivered > 0 ? ` (${undelivered} not delivered)` : ''}`,
    );
    if (instances.length !== 1)
      failures.push(`leg ${callId}'s deliveries went to ${instances.length} instances, not one`);
    legInstances.push(...instances);
  }
  const distinct = new Set(legInstances).size;
  if (distinct < count)
    failures.push(
      `the legs' deliveries went to ${distinct} function instance(s), not ${count} different ones`,
    );
  return failures;
}

/** The legs' rows (captures) belong to one interaction, sealed `recorded`, with a capture per leg. */
export async function judgePairedInteraction(
  context: InstancesContext,
  tenantId: string,
  rows: readonly CaptureRow[],
  legCount: number,
): Promise<string[]> {
  const legRows = rows.filter((r) => r.pairedInteractionId !== undefined);
  const ids = [...new Set(legRows.map((r) => r.pairedInteractionId!))];
  if (legRows.length !== legCount || ids.length !== 1)
    return [
      `the ${legCount} legs did not build one interaction (${legRows.length} capture(s), paired interaction(s): ${ids.join(', ') || 'none'})`,
    ];
  const id = ids[0]!;
  const url = `${context.functionsUrl}/api/archive/interactions/${encodeURIComponent(tenantId)}/${encodeURIComponent(id)}`;
  const deadline = Date.now() + context.sealTimeoutInMs;
  let interaction: PairedInteraction | undefined;
  for (;;) {
    const response = await fetch(url, { headers: { authorization: `Bearer ${context.token}` } });
    if (response.ok) {
      interaction = ((await response.json()) as { interaction: PairedInteraction }).interaction;
      if (interaction.manifestSha256 !== undefined) break;
    } else if (response.status !== 404) {
      return [`the archive answered ${response.status} for interaction ${id}`];
    }
    if (Date.now() > deadline) return [`interaction ${id} was not sealed in time`];
    await sleep(context.pollIntervalInMs);
  }
  const hosts = new Set(interaction.captures?.map((c) => c.mediaHostId));
  context.write(
    `  attest paired interaction ${id}: ${interaction.outcome}, sealed, ${interaction.captures?.length ?? 0} capture(s) on ${hosts.size} media host(s)`,
  );
  const failures: string[] = [];
  if (interaction.outcome !== 'recorded')
    failures.push(`interaction ${id} was sealed ${interaction.outcome}, not recorded`);
  const captureIds = new Set(interaction.captures?.map((c) => c.captureId));
  if (captureIds.size !== legCount || !legRows.every((r) => captureIds.has(r.interactionId)))
    failures.push(`interaction ${id} does not list the ${legCount} legs' captures`);
  return failures;
}
