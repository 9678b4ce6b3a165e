// A media host in its own process, for tests that kill it (kill -9) and start it again.
// Configuration comes as JSON in ATTEST_TEST_MEDIA_HOST_CONFIG; prints one JSON line when ready.
const {
  startMediaHost,
  createRawPassthroughFormatter,
  silentLogger,
} = require('../../media-host/dist/index.js');

const config = JSON.parse(process.env.ATTEST_TEST_MEDIA_HOST_CONFIG);
startMediaHost(config, {
  formatterFactory: createRawPassthroughFormatter,
  logger: silentLogger,
}).then(
  (host) =>
    process.stdout.write(
      `${JSON.stringify({ ready: true, controlUrl: host.controlUrl, mediaPort: host.mediaPort })}\n`,
    ),
  (error) => {
    process.stderr.write(`${error && error.stack ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
