// A media host in its own process, for tests that kill it (kill -9) and start it again.
// Configuration comes as JSON in ATTEST_TEST_MEDIA_HOST_CONFIG; prints one JSON line when ready.
// ATTEST_TEST_MEDIA_HOST_FORMATS=production stores what a deployed host stores (Ogg Opus audio,
// fragmented MP4 video), which a browser plays; the default is raw passthrough.
const {
  startMediaHost,
  createRawPassthroughFormatter,
  silentLogger,
} = require('../../media-host/dist/index.js');

function formatterFactory() {
  if (process.env.ATTEST_TEST_MEDIA_HOST_FORMATS !== 'production')
    return createRawPassthroughFormatter;
  const {
    createStreamFormatterFactory,
    OpusEncoderPool,
  } = require('../../media-host/dist/pipeline/formats');
  return createStreamFormatterFactory({ opusPool: new OpusEncoderPool({ workerCount: 1 }) });
}

const config = JSON.parse(process.env.ATTEST_TEST_MEDIA_HOST_CONFIG);
startMediaHost(config, {
  formatterFactory: formatterFactory(),
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
