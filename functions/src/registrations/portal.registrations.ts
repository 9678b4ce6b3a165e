/**
 * Registers the portal: its static files under `/api/portal/` and the read routes a browser needs
 * to verify recordings itself. The only portal file that calls `app.*`.
 */
import { app } from '@azure/functions';
import type { PortalConfig } from '../config/portal-config';
import { createPortalMediaHandlers, type PortalMediaDeps } from '../http/portal-media.http';
import { createPortalStaticHandler } from '../http/portal-static.http';

export interface PortalRegistrationDeps {
  readonly config: PortalConfig;
  readonly media: PortalMediaDeps;
}

export function registerPortal(deps: PortalRegistrationDeps): void {
  // Static files need no token (they hold no data); the data routes check it themselves.
  app.http('portalStatic', {
    route: 'portal/{*path}',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: createPortalStaticHandler(deps.config),
  });
  const media = createPortalMediaHandlers(deps.media);
  app.http('archiveManifest', {
    route: 'archive/interactions/{tenantId}/{interactionId}/manifest',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: media.manifest,
  });
  app.http('archivePlayback', {
    route: 'archive/interactions/{tenantId}/{interactionId}/playback',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: media.playback,
  });
  app.http('archiveStoredMedia', {
    route: 'archive/interactions/{tenantId}/{interactionId}/streams/{streamId}/stored',
    methods: ['GET'],
    authLevel: 'anonymous',
    handler: media.stored,
  });
}
