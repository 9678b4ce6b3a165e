/**
 * `npm run scenario -- <name or file>`: plays one simulator scenario against the stack that
 * `npm start` is running, through the simulator's control API, then prints the simulator's
 * verdict (who was recorded, how the call ended) and what Attest stored for the call.
 *
 * Reads the control token that `npm start` leaves in `<data dir>/sim-control-token`, or
 * `ATTEST_SIM_CONTROL_TOKEN`. Exit codes: 0 pass, 1 fail, 2 bad input or stack not running.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { judgeOutcome, type OutcomeLike } from '../simulator/scenarios/judge';
import type { ScenarioExpectation } from '../simulator/scenarios/scenario';

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
  readonly controlToken: string;
  readonly timeoutInMs: number;
  readonly write: (line: string) => void;
}

async function json<T>(response: Response, what: string): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${what} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Runs one scenario; resolves with the exit code. */
export async function runScenario(scenario: string, options: ScenarioCliOptions): Promise<number> {
  const headers = {
    authorization: `Bearer ${options.controlToken}`,
    'content-type': 'application/json',
  };
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
  let outcome: OutcomeLike & { callChainId?: string; tenantId?: string };
  for (;;) {
    outcome = await json(
      await fetch(`${options.simulatorUrl}/_sim/calls/${started.conversationId}`, { headers }),
      'the simulator',
    );
    if (outcome.state === 'ended' || Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const verdict = judgeOutcome(outcome, started.expect);
  options.write(`  call ${outcome.state}, end reason ${outcome.endReason ?? '-'}`);
  for (const p of outcome.participants)
    options.write(`  participant ${p.userId ?? '(external)'}: ${p.status}`);

  // What Attest stored, through its own admin API with a portal admin's token.
  const tenantId = outcome.tenantId;
  if (tenantId !== undefined) {
    const issued = await json<{ access_token: string }>(
      await fetch(`${options.simulatorUrl}/_sim/users/token`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ tenantId, userId: 'admin@contoso.example' }),
      }),
      'the simulator token endpoint',
    );
    // The interaction is sealed shortly after the call ends: give the lifecycle a moment.
    let recorded: RecorderCall[] = [];
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const list = await json<{ value: RecorderCall[] }>(
        await fetch(`${options.functionsUrl}/api/calls?state=recent`, {
          headers: { authorization: `Bearer ${issued.access_token}` },
        }),
        'the function app',
      );
      recorded = list.value.filter((call) => call.callChainId === outcome.callChainId);
      if (recorded.length > 0 && recorded.every((call) => call.outcome !== 'inProgress')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    for (const call of recorded) {
      options.write(
        `  attest interaction ${call.interactionId}: ${call.type} ${call.direction}, ${call.outcome}` +
          `${call.manifestBlobName !== undefined ? ', sealed' : ''}${(call.gaps?.length ?? 0) > 0 ? `, ${call.gaps?.length} gap(s)` : ''}` +
          `${call.mediaHostId !== undefined ? ` on ${call.mediaHostId}` : ''}` +
          `${call.pairedInteractionId !== undefined ? `, capture of ${call.pairedInteractionId}` : ''}`,
      );
    }
    if (recorded.length === 0) options.write('  attest stored no interaction for this call');
  }
  for (const failure of verdict.failures) options.write(`  FAIL ${failure}`);
  options.write(`scenario ${scenario}: ${verdict.isPass ? 'PASS' : 'FAIL'}`);
  return verdict.isPass ? 0 : 1;
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
