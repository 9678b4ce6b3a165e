/**
 * The Instance Metadata Service stand-in inside the start process: the scheduled events every
 * local media host reads, as the instances of a scale set read Azure's. `npm run scenario`
 * schedules a scale-in on it (`POST /_imds/events`); each media host service replaces its
 * instance once the host acknowledged the event (as Azure removes it and the scale set's
 * autoscale brings another).
 */
import { startImdsStandIn } from '../imds/imds-server';
import type { ServiceDefinition } from './services';

export function imdsService(options: { readonly port: number }): ServiceDefinition {
  return {
    name: 'imds',
    async start() {
      const imds = await startImdsStandIn({ port: options.port });
      return {
        name: 'imds',
        urls: { events: `${imds.url}/_imds/events` },
        settings: { ATTEST_MEDIA_SCHEDULED_EVENTS_URL: imds.url },
        stop: () => imds.close(),
      };
    },
  };
}
