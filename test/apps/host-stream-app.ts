/** An app that asks for HTTP streaming mode, which the local host refuses at load. */
import { app } from '@azure/functions';

app.setup({ enableHttpStream: true });

app.http('streamingMode', { route: 'streaming', handler: () => ({ body: 'unused' }) });
