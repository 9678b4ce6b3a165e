using './main.bicep'

// Example parameters for a development deployment. Secrets come from the command line or a
// Key Vault reference, never from this file:
//   az deployment group create -g rg-attest-dev -f infra/main.bicep -p infra/main.bicepparam \
//     -p mediaHostAdminPassword=<secret>
param baseName = 'attest'
param environmentKind = 'dev'
param botAppId = '00000000-0000-0000-0000-000000000000'
param mediaHostAdminPassword = readEnvironmentVariable('ATTEST_MEDIA_HOST_ADMIN_PASSWORD', '')
