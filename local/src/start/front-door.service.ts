/**
 * The simulator's front door in front of a scaled-out function app: once the further instances
 * run, puts one route (`PUT /_sim/webhook-routes`) that sends each new call leg's invite and
 * notifications to the next instance in turn (per-leg affinity), so the two legs of a paired call
 * land on different instances. The launcher trusts the simulator through its local CA, as the
 * children do through `NODE_EXTRA_CA_CERTS` (read only when a process starts).
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { FUNCTION_INSTANCE_ORIGINS } from './functions-host.service';
import type { ServiceDefinition } from './services';

export interface FrontDoorServiceOptions {
  /** The origin the app gives out (its webhook and `callbackUri`): the first instance's. */
  readonly publicOrigin: string;
}

function putRoutes(simulatorUrl: string, caFile: string, token: string, body: unknown) {
  return new Promise<{ status: number; text: string }>((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      `${simulatorUrl}/_sim/webhook-routes`,
      {
        method: 'PUT',
        ca: readFileSync(caFile),
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export function frontDoorService(options: FrontDoorServiceOptions): ServiceDefinition {
  return {
    name: 'front-door',
    async start(context) {
      const { env } = context;
      const simulatorUrl = env.ATTEST_GRAPH_BASE_URL;
      const caFile = env.NODE_EXTRA_CA_CERTS;
      const token = env.ATTEST_SIM_CONTROL_TOKEN;
      const further = env[FUNCTION_INSTANCE_ORIGINS];
      if (!simulatorUrl || !caFile || !token)
        throw new Error('the simulator must start before the front door');
      if (!further) throw new Error('no further function instance started before the front door');
      const instanceOrigins = [options.publicOrigin, ...further.split(',')];
      const routed = await putRoutes(simulatorUrl, caFile, token, {
        routes: [{ publicOrigin: options.publicOrigin, instanceOrigins, affinity: 'perLeg' }],
      });
      if (routed.status !== 200)
        throw new Error(`the simulator refused the routes: ${routed.status} ${routed.text}`);
      context.log('webhook spread over the function instances', {
        publicOrigin: options.publicOrigin,
        instanceOrigins,
        affinity: 'perLeg',
      });
      return {
        name: 'front-door',
        urls: { routes: `${simulatorUrl}/_sim/webhook-routes` },
        // The routes go with the simulator; nothing to undo before the instances stop.
        stop: () => Promise.resolve(),
      };
    },
  };
}
