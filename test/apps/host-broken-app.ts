/** An app whose entry registers one function and then fails, as an app with a config error does. */
import { app } from '@azure/functions';

app.http('brokenFirst', { route: 'broken', handler: () => ({ body: 'unused' }) });

if ((globalThis as { attestBrokenAppFixed?: boolean }).attestBrokenAppFixed !== true) {
  throw new Error('[ATT_CONFIG_INVALID] invalid configuration: ATTEST_EXAMPLE is required');
}
