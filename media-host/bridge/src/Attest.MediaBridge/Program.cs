using Attest.MediaBridge.Configuration;
using Attest.MediaBridge.Hosting;
using Attest.MediaBridge.Sdk;

return await BridgeApp.RunAsync(args, new SdkMediaPlatform(), new MachineCertificateSource()).ConfigureAwait(false);
