using './main.bicep'

// Example parameters. Secrets come from the environment (or the command line), never from this file:
//   ATTEST_BOT_APP_SECRET=... ATTEST_MEDIA_HOST_ADMIN_PASSWORD=... \
//   az deployment group create -g rg-attest -f infra/main.bicep -p infra/main.bicepparam
param baseName = 'attest'
param environmentKind = 'dev'
param botAppId = readEnvironmentVariable('ATTEST_BOT_APP_ID', '00000000-0000-0000-0000-000000000000')
param botAppSecret = readEnvironmentVariable('ATTEST_BOT_APP_SECRET', '')
param packageBaseUrl = readEnvironmentVariable('ATTEST_PACKAGE_BASE_URL', '')
param packageVersion = readEnvironmentVariable('ATTEST_PACKAGE_VERSION', '0.1.0')
param mediaCertificatePem = readEnvironmentVariable('ATTEST_MEDIA_CERTIFICATE_PEM', '')
param mediaHostAdminPassword = readEnvironmentVariable('ATTEST_MEDIA_HOST_ADMIN_PASSWORD', '')
param mediaHostInstanceCount = 2
