/**
 * `npm run scenario -- <name or file>`: plays one simulator scenario against the stack that
 * `npm start` is running, through the simulator's control API, then prints the simulator's
 * verdict (who was recorded, how the call ended) and what Attest stored for the call.
 *
 * Reads the control token that `npm start` leaves in `<data dir>/sim-control-token`, or
 * `ATTEST_SIM_CONTROL_TOKEN`. Exit codes: 0 pass, 1 fail, 2 bad input or stack not running (or
 * running fewer function instances than the scenario needs: it says how to start enough).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { judgeOutcome, type OutcomeLike } from '../simulator/scenarios/judge';
import {
  resolveScenario,
  type ScenarioExpectation,
  type ScenarioFleet,
} from '../simulator/scenarios/scenario';
import {
  awaitAcknowledged,
  awaitScaleInDrain,
  describeHost,
  drainRegion,
  listHosts,
  scheduleScaleIn,
  undrain,
  type FleetContext,
  type FleetHostRow,
} from './scenario-fleet';
import {
  instancesBehindFrontDoor,
  judgeLegInstances,
  judgePairedInteraction,
  type InstancesContext,
} from './scenario-instances';

interface StartedScenario {
  readonly conversationId: string;
  readonly expect?: ScenarioExpectation;
}

interface RecorderCall {
  readonly interactionId: string;
  readonly callChainId?: string;
  readonly outcome: string;
  readonly type: string;
  readonly direction: string;
  readonly manifestBlobName?: string;
  readonly gaps?: readonly unknown[];
  readonly mediaHostId?: string;
  /** A capture of a paired call: the interaction it belongs to. */
  readonly pairedInteractionId?: string;
}

export interface ScenarioCliOptions {
  readonly simulatorUrl: string;
  readonly functionsUrl: string;
  /** The Instance Metadata Service stand-in, for scenarios that scale a media host in. */
  readonly imdsUrl: string;
  /** Where scenario names are resolved, to read what the scenario does to the fleet. */
  readonly scenarioDir: string;
  /** The directory user whose token reads what Attest stored. Default `admin@contoso.example`. */
  readonly adminUserId?: string;
  readonly controlToken: string;
  readonly timeoutInMs: number;
  readonly write: (line: string) => void;
}

async function json<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

interface SimOutcome extends OutcomeLike {
  readonly callChainId?: string;
  readonly tenantId?: string;
  readonly legs?: readonly { readonly callId: string; readonly recordingStatus: string }[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs one scenario; resolves with the exit code. */
export async function runScenario(scenario: string, options: ScenarioCliOptions): Promise<number> {
  const headers = {
    authorization: `Bearer ${options.controlToken}`,
    'content-type': 'application/json',
  };
  const adminToken = async (tenantId: string): Promise<string> =>
    (
      await json<{ access_token: string }>(
        await fetch(`${options.simulatorUrl}/_sim/users/token`, {
          method: 'POST',
          headers,
          // The calls' story is a tenant admin's to read; the media hosts are an operator's; a
          // sealed interaction (the archive) is an auditor's.
          body: JSON.stringify({
            tenantId,
            userId: options.adminUserId ?? 'admin@contoso.example',
            roles: ['admin', 'operator', 'auditor'],
          }),
        }),
        'the simulator token endpoint',
      )
    ).access_token;
  // What the scenario does to Attest's media host fleet (the simulator plays only the call).
  const local = (() => {
    try {
      return resolveScenario(scenario, options.scenarioDir);
    } catch {
      return undefined;
    }
  })();
  const fleetSteps: ScenarioFleet | undefined = local?.fleet;
  const fleet: FleetContext | undefined =
    fleetSteps === undefined || local === undefined
      ? undefined
      : {
          functionsUrl: options.functionsUrl,
          imdsUrl: options.imdsUrl,
          token: await adminToken(local.call.tenantId),
          write: options.write,
          pollIntervalInMs: 250,
        };
  const instanceCount = fleetSteps?.functionInstances;
  const instances: InstancesContext | undefined =
    fleet === undefined || instanceCount === undefined
      ? undefined
      : {
          ...fleet,
          simulatorUrl: options.simulatorUrl,
          controlHeaders: headers,
          sealTimeoutInMs: 120_000,
        };
  if (instances !== undefined && instanceCount !== undefined) {
    const behind = await instancesBehindFrontDoor(instances, instanceCount);
    if ('failure' in behind) {
      options.write(`scenario ${scenario}: ${behind.failure}`);
      return 2;
    }
  }
  const failures: string[] = [];
  let drained: string[] = [];
  try {
    if (fleet !== undefined && fleetSteps?.drainRegion !== undefined)
      drained = await drainRegion(fleet, fleetSteps.drainRegion);
    const started = await json<StartedScenario>(
      await fetch(`${options.simulatorUrl}/_sim/scenarios/run`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ scenario }),
      }),
      'the simulator',
    );
    options.write(`scenario ${scenario}: conversation ${started.conversationId} started`);
    const deadline = Date.now() + options.timeoutInMs;
    let outcome: SimOutcome;
    let recordingSince: number | undefined;
    let scaleIn: { hostId: string; eventId: string } | undefined;
    for (;;) {
      outcome = await json(
        await fetch(`${options.simulatorUrl}/_sim/calls/${started.conversationId}`, { headers }),
        'the simulator',
      );
      if (outcome.state === 'ended' || Date.now() > deadline) break;
      const recordingLeg = outcome.legs?.find((l) => l.recordingStatus === 'recording');
      if (recordingLeg !== undefined) recordingSince ??= Date.now();
      if (
        fleet !== undefined &&
        fleetSteps?.scaleInAtInMs !== undefined &&
        scaleIn === undefined &&
        recordingLeg !== undefined &&
        Date.now() - recordingSince! >= fleetSteps.scaleInAtInMs
      ) {
        const view = await json<{ interaction?: { mediaHostId?: string } }>(
          await fetch(
            `${options.functionsUrl}/api/calls/${encodeURIComponent(recordingLeg.callId)}`,
            {
              headers: { authorization: `Bearer ${fleet.token}` },
            },
          ),
          'the function app',
        );
        const hostId = view.interaction?.mediaHostId;
        if (hostId === undefined) failures.push('the recording leg names no media host');
        else {
          scaleIn = { hostId, eventId: await scheduleScaleIn(fleet, hostId, fleetSteps) };
          if ((await awaitScaleInDrain(fleet, hostId, 20_000)) === undefined)
            failures.push(`${hostId} did not report a scale-in drain within 20 s`);
        }
      }
      await sleep(500);
    }
    const verdict = judgeOutcome(outcome, started.expect);
    failures.unshift(...verdict.failures);
    options.write(`  call ${outcome.state}, end reason ${outcome.endReason ?? '-'}`);
    for (const p of outcome.participants)
      options.write(`  participant ${p.userId ?? '(external)'}: ${p.status}`);

    // What Attest stored, through its own admin API with a portal admin's token.
    const tenantId = outcome.tenantId;
    if (tenantId !== undefined) {
      const token = fleet?.token ?? (await adminToken(tenantId));
      // The interaction is sealed shortly after the call ends: give the lifecycle a moment.
      let recorded: RecorderCall[] = [];
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const list = await json<{ value: RecorderCall[] }>(
          await fetch(`${options.functionsUrl}/api/calls?state=recent`, {
            headers: { authorization: `Bearer ${token}` },
          }),
          'the function app',
        );
        recorded = list.value.filter((call) => call.callChainId === outcome.callChainId);
        if (recorded.length > 0 && recorded.every((call) => call.outcome !== 'inProgress')) break;
        await sleep(500);
      }
      const hosts: FleetHostRow[] = fleet === undefined ? [] : await listHosts(fleet);
      for (const call of recorded) {
        const host = hosts.find((h) => h.hostId === call.mediaHostId);
        options.write(
          `  attest interaction ${call.interactionId}: ${call.type} ${call.direction}, ${call.outcome}` +
            `${call.manifestBlobName !== undefined ? ', sealed' : ''}${(call.gaps?.length ?? 0) > 0 ? `, ${call.gaps?.length} gap(s)` : ''}` +
            `${call.mediaHostId !== undefined ? ` on ${describeHost(host, call.mediaHostId)}` : ''}` +
            `${call.pairedInteractionId !== undefined ? `, capture of ${call.pairedInteractionId}` : ''}`,
        );
      }
      if (recorded.length === 0) options.write('  attest stored no interaction for this call');
      if (fleet !== undefined && fleetSteps !== undefined)
        failures.push(...(await judgeFleet(fleet, fleetSteps, recorded, hosts, drained, scaleIn)));
      if (instances !== undefined && instanceCount !== undefined) {
        const legs = (outcome.legs ?? []).map((l) => l.callId);
        failures.push(...(await judgeLegInstances(instances, legs, instanceCount)));
        failures.push(...(await judgePairedInteraction(instances, tenantId, recorded, 2)));
      }
    }
    if (fleet !== undefined) await undrain(fleet, drained.splice(0));
    for (const failure of failures) options.write(`  FAIL ${failure}`);
    const isPass = failures.length === 0;
    options.write(`scenario ${scenario}: ${isPass ? 'PASS' : 'FAIL'}`);
    return isPass ? 0 : 1;
  } finally {
    if (fleet !== undefined) await undrain(fleet, drained);
  }
}

/** What the fleet steps were to show, said in words; failures where it did not happen. */
async function judgeFleet(
  fleet: FleetContext,
  steps: ScenarioFleet,
  recorded: readonly RecorderCall[],
  hosts: readonly FleetHostRow[],
  drained: readonly string[],
  scaleIn: { hostId: string; eventId: string } | undefined,
): Promise<string[]> {
  const failures: string[] = [];
  if (steps.drainRegion !== undefined) {
    const landed = recorded.flatMap((c) => (c.mediaHostId === undefined ? [] : [c.mediaHostId]));
    const inDrained = landed.filter((id) => drained.includes(id));
    if (landed.length === 0) failures.push('no media host took the call');
    else if (inDrained.length > 0)
      failures.push(`the call went to ${inDrained.join(', ')} in the drained region`);
    else
      fleet.write(
        `  fleet: spill-over: ${steps.drainRegion} had no room, the call went to ${landed
          .map((id) =>
            describeHost(
              hosts.find((h) => h.hostId === id),
              id,
            ),
          )
          .join(', ')}`,
      );
  }
  if (steps.scaleInAtInMs !== undefined) {
    if (scaleIn === undefined) failures.push('the scale-in was never scheduled (no recording leg)');
    else if (await awaitAcknowledged(fleet, scaleIn.eventId, 30_000))
      fleet.write(
        `  fleet: ${scaleIn.hostId} acknowledged the scale-in once its last call ended: the instance may go (npm start brings it back as a new instance)`,
      );
    else failures.push(`${scaleIn.hostId} did not acknowledge the scale-in within 30 s`);
    const cut = recorded.filter((c) => c.outcome !== 'recorded');
    if (cut.length > 0)
      failures.push(
        `the scale-in cut ${cut.map((c) => `${c.interactionId} (${c.outcome})`).join(', ')}`,
      );
  }
  return failures;
}

async function main(): Promise<number> {
  const scenario = process.argv[2];
  if (scenario === undefined || scenario.startsWith('-')) {
    process.stderr.write(
      'usage: npm run scenario -- <scenario name or file> (with npm start running)\n',
    );
    return 2;
  }
  const rootDir = resolve(__dirname, '..', '..', '..');
  const dataDir = process.env.ATTEST_START_DATA_DIR
    ? resolve(process.env.ATTEST_START_DATA_DIR)
    : join(rootDir, '.data');
  const tokenFile = join(dataDir, 'sim-control-token');
  const controlToken =
    process.env.ATTEST_SIM_CONTROL_TOKEN ??
    (existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : undefined);
  if (controlToken === undefined) {
    process.stderr.write(`no simulator control token at ${tokenFile}: is npm start running?\n`);
    return 2;
  }
  try {
    return await runScenario(scenario, {
      simulatorUrl: `https://127.0.0.1:${process.env.ATTEST_START_SIMULATOR_PORT ?? '7443'}`,
      functionsUrl: `http://127.0.0.1:${process.env.ATTEST_START_FUNCTIONS_PORT ?? '7071'}`,
      imdsUrl: `http://127.0.0.1:${process.env.ATTEST_START_IMDS_PORT ?? '7480'}`,
      scenarioDir: join(rootDir, 'local', 'scenarios'),
      controlToken,
      timeoutInMs: Number(process.env.ATTEST_SCENARIO_TIMEOUT_MS ?? 180_000),
      write: (line) => process.stdout.write(`${line}\n`),
    });
  } catch (error) {
    process.stderr.write(`scenario failed to run: ${(error as Error).message}\n`);
    return 2;
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
