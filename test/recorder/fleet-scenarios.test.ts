/**
 * `npm run scenario -- region-spill-over` and `-- scale-in-drain`, run by the scenario command's
 * own code against a fleet of two media hosts (West Europe and North Europe) that read scheduled
 * events from the Instance Metadata Service stand-in. The scenario files are the shipped ones,
 * with the test directory's tenant and users. Checks what the command prints and what happened,
 * and that the scaled-in host, replaced as `npm start` replaces it, takes calls again.
 * Needs NODE_EXTRA_CA_CERTS=.data/ca/ca-cert.pem.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startImdsStandIn, type ImdsStandIn } from '../../local/src/imds/imds-server';
import { runScenario, type ScenarioCliOptions } from '../../local/src/start/scenario';
import { TENANT, USERS } from '../simulator/support/fixtures';
import { startFleetStack, type FleetHost, type FleetStack } from './support/fleet-stack';
import { waitFor } from './support/recorder-stack';

const SHIPPED = join(__dirname, '..', '..', 'local', 'scenarios');
/** The shipped directory's tenant and users, and the test directory's. */
const RENAMES: readonly [string, string][] = [
  ['a1b2c3d4-0000-4000-8000-000000000001', TENANT],
  ['11111111-0000-4000-8000-000000000001', USERS.trader],
  ['11111111-0000-4000-8000-000000000003', USERS.unrecorded],
];

jest.setTimeout(120_000);

describe('fleet scenarios through the scenario command', () => {
  const scenarioDir = mkdtempSync(join(tmpdir(), 'attest-fleet-scenarios-'));
  let fleet: FleetStack;
  let imds: ImdsStandIn;
  let west: FleetHost;
  let north: FleetHost;
  let options: Omit<ScenarioCliOptions, 'write'>;
  let host: (hostId: string, region: string) => Promise<FleetHost>;

  beforeAll(async () => {
    for (const name of ['region-spill-over', 'scale-in-drain']) {
      let text = readFileSync(join(SHIPPED, `${name}.json`), 'utf8');
      for (const [from, to] of RENAMES) text = text.split(from).join(to);
      writeFileSync(join(scenarioDir, `${name}.json`), text);
    }
    imds = await startImdsStandIn();
    fleet = await startFleetStack({ scenarioDir });
    host = (hostId: string, region: string) =>
      fleet.startHost({
        hostId,
        region,
        zone: '1',
        scheduledEvents: {
          url: imds.url,
          pollIntervalInMs: 1000,
          maxDrainInMs: 600_000,
          instanceName: hostId,
        },
      });
    west = await host('mh-west', 'westeurope');
    north = await host('mh-north', 'northeurope');
    options = {
      simulatorUrl: fleet.stack.sim.url,
      functionsUrl: fleet.stack.baseUrl,
      imdsUrl: imds.url,
      scenarioDir,
      controlToken: fleet.stack.sim.controlToken,
      adminUserId: USERS.admin,
      timeoutInMs: 60_000,
    };
  }, 180_000);
  afterAll(async () => {
    await fleet?.close();
    await imds?.close();
  });

  const run = async (name: string): Promise<{ code: number; lines: string[] }> => {
    const lines: string[] = [];
    const code = await runScenario(name, { ...options, write: (line) => lines.push(line) });
    return { code, lines };
  };
  const registry = async () =>
    (
      await fleet.stack.api<{ value: { hostId: string; isDraining: boolean }[] }>(
        'GET',
        '/api/mediahosts',
        { token: fleet.adminToken },
      )
    ).body.value;

  it('region-spill-over: West Europe has no room, the call is recorded in North Europe, and the region is undrained after', async () => {
    const { code, lines } = await run('region-spill-over');
    expect({ code, lines }).toMatchObject({ code: 0 });
    expect(lines).toEqual(
      expect.arrayContaining([
        `  fleet: westeurope is full for this call: drained 1 host(s) there (${west.hostId})`,
        expect.stringMatching(
          new RegExp(
            `fleet: spill-over: westeurope had no room, the call went to ${north.hostId} \\(northeurope, zone 1\\)`,
          ),
        ),
        expect.stringMatching(
          new RegExp(`recorded, sealed(, \\d+ gap\\(s\\))? on ${north.hostId} \\(northeurope`),
        ),
        `  fleet: undrained ${west.hostId}`,
        'scenario region-spill-over: PASS',
      ]),
    );
    expect((await registry()).find((h) => h.hostId === west.hostId)?.isDraining).toBe(false);
  });

  it('scale-in-drain: the host recording the call drains, the call ends recorded, then the host acknowledges', async () => {
    const { code, lines } = await run('scale-in-drain');
    expect({ code, lines }).toMatchObject({ code: 0 });
    // The call's media is in West Europe: its host is the one scaled in.
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`fleet: scale-in scheduled for ${west.hostId} \\(Terminate `),
        ),
        expect.stringMatching(
          new RegExp(
            `fleet: ${west.hostId} \\(westeurope, zone 1\\) draining \\(scaleIn, hand-back deadline \\S+\\), 1 call\\(s\\) still on it`,
          ),
        ),
        expect.stringMatching(
          new RegExp(`recorded, sealed(, \\d+ gap\\(s\\))? on ${west.hostId} \\(westeurope`),
        ),
        `  fleet: ${west.hostId} acknowledged the scale-in once its last call ended: the instance may go (npm start brings it back as a new instance)`,
        'scenario scale-in-drain: PASS',
      ]),
    );
    expect(imds.acknowledged()).toHaveLength(1);
    expect(west.host.health()).toMatchObject({ isDraining: true, drain: { reason: 'scaleIn' } });
  });

  it('a host replaced after its scale-in comes back taking calls: its heartbeat says not draining and a new call lands on it', async () => {
    // The previous case left the West Europe host drained with its scale-in acknowledged.
    const [eventId] = imds.acknowledged();
    expect(eventId).toBeDefined();
    expect(west.host.health()).toMatchObject({ isDraining: true });

    // What `npm start` does (and Azure, with a new instance of the scale set): the instance
    // goes, the event with it, and the host starts again under the same id.
    await west.host.close();
    imds.removeEvent(eventId!);
    west = await host('mh-west', 'westeurope');
    expect(west.host.health()).toMatchObject({ isDraining: false });
    expect(west.host.health()).not.toHaveProperty('drain');
    // A new instance reads the scheduled events too: nothing names it, so it stays undrained.
    await west.host.drain.checkScheduledEvents();
    expect(west.host.health()).toMatchObject({ isDraining: false });
    // The registry holds the new instance's heartbeat: no drain left from the old one.
    await waitFor(async () => {
      const listed = await fleet.stack.api<{
        value: { hostId: string; isDraining: boolean; drain?: unknown }[];
      }>('GET', '/api/mediahosts', { token: fleet.adminToken });
      const row = listed.body.value.find((h) => h.hostId === west.hostId);
      return row?.isDraining === false && row.drain === undefined ? true : undefined;
    }, 'the replaced host to heartbeat as not draining');

    // A call with its media in West Europe goes to the replaced host again, and is recorded.
    const call = await fleet.traderCalls('EUWE', 3000);
    const leg = await fleet.recordedLeg(call);
    expect((await fleet.callView(leg.callId)).interaction?.mediaHostId).toBe(west.hostId);
    const ended = await fleet.finished(leg.callId);
    expect(ended.interaction?.outcome).toBe('recorded');
    expect(ended.interaction?.mediaHostId).toBe(west.hostId);
    expect(ended.streams.some((s) => s.bytes > 0)).toBe(true);
  });
});
