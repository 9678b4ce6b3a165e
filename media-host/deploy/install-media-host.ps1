<#
.SYNOPSIS
  Installs (or updates in place) the Attest media host on an Azure scale set instance.

.DESCRIPTION
  Run by the scale set's Custom Script extension with the release artifacts downloaded next to it.
  Idempotent: every step checks before it changes, so a redeployment updates the instance.
    1. verifies the package against SHA256SUMS and unpacks it under C:\Attest\releases\<version>
    2. formats the data disk (first run) and creates the spool on it
    3. reads the control key and the media certificate from Key Vault with the instance's identity
    4. writes the certificate's PEM (for Node) and imports it into LocalMachine\My (for the bridge)
    5. opens the Windows firewall for the media port (any source: the NSG allows only Teams) and
       the control port (the function app's subnet only, enforced again by the NSG)
    6. writes the settings file and service definitions (configure-windows-host, with the bundled
       Node), then installs and (re)starts the services, which restart on failure
  Secrets never appear on a command line or in the extension's log.
#>
[CmdletBinding()]
param(
  [Parameter(Mandatory = $true)] [string] $PackageFile,
  [Parameter(Mandatory = $true)] [string] $ChecksumFile,
  [Parameter(Mandatory = $true)] [string] $SettingsBase64,
  [string] $InstallRoot = 'C:\Attest',
  [string] $ConfigDir = 'C:\ProgramData\Attest'
)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Write-Step([string] $Message) {
  Write-Output ("{0:o} attest-install: {1}" -f (Get-Date).ToUniversalTime(), $Message)
}

function Get-ImdsToken([string] $Resource, [string] $ClientId) {
  $uri = "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=$([uri]::EscapeDataString($Resource))&client_id=$ClientId"
  (Invoke-RestMethod -Headers @{ Metadata = 'true' } -Uri $uri).access_token
}

function Get-VaultSecret([string] $SecretUri, [string] $ClientId) {
  $token = Get-ImdsToken 'https://vault.azure.net' $ClientId
  $uri = $SecretUri.TrimEnd('/') + '?api-version=7.4'
  (Invoke-RestMethod -Headers @{ Authorization = "Bearer $token" } -Uri $uri).value
}

function Protect-Path([string] $Path) {
  # SYSTEM and Administrators only: the settings file and the key hold secrets.
  icacls $Path /inheritance:r /grant:r 'SYSTEM:(OI)(CI)F' 'Administrators:(OI)(CI)F' | Out-Null
}

$settings = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($SettingsBase64)) | ConvertFrom-Json
$clientId = $settings.identityClientId

# 1. Package: verify, unpack once per version.
$expected = (Get-Content $ChecksumFile | Where-Object { $_ -match ("\s\*?" + [regex]::Escape($PackageFile) + '$') } | Select-Object -First 1)
if (-not $expected) { throw "SHA256SUMS has no line for $PackageFile" }
$expectedHash = ($expected -split '\s+')[0].ToLowerInvariant()
$actualHash = (Get-FileHash -Algorithm SHA256 $PackageFile).Hash.ToLowerInvariant()
if ($actualHash -ne $expectedHash) { throw "checksum mismatch for $PackageFile" }
$version = [IO.Path]::GetFileNameWithoutExtension($PackageFile) -replace '^attest-media-host-', '' -replace '-win-x64$', ''
$releaseDir = Join-Path $InstallRoot "releases\$version"
$unpackedHashFile = Join-Path $releaseDir '.package-sha256'
# Unpack when this version is new here, or was republished with other content.
if (-not (Test-Path $unpackedHashFile) -or (Get-Content $unpackedHashFile) -ne $actualHash) {
  Write-Step "unpacking $version"
  $staging = "$releaseDir.staging"
  if (Test-Path $staging) { Remove-Item -Recurse -Force $staging }
  Expand-Archive -Path $PackageFile -DestinationPath $staging
  $inner = Get-ChildItem $staging -Directory | Select-Object -First 1
  if (Test-Path $releaseDir) {
    # Republished version: its services hold files open; they are restarted below.
    foreach ($id in 'attest-media-bridge', 'attest-media-host') { Stop-Service $id -ErrorAction SilentlyContinue }
    Remove-Item -Recurse -Force $releaseDir
  }
  Move-Item $inner.FullName $releaseDir
  Remove-Item -Recurse -Force $staging
  Set-Content -Path $unpackedHashFile -Value $actualHash -NoNewline
}
$release = Get-Content (Join-Path $releaseDir 'release.json') | ConvertFrom-Json
$nodeExe = Join-Path $releaseDir 'node\node.exe'
# The package carries its Node runtime (pinned when packaged); check it is the one release.json names.
if ((Get-FileHash -Algorithm SHA256 $nodeExe).Hash.ToLowerInvariant() -ne $release.node.sha256) { throw 'Node runtime checksum mismatch' }

# 2. Data disk: the first raw disk becomes the spool volume (F:), kept across reinstalls.
$spoolVolume = Get-Volume -FileSystemLabel 'attest-spool' -ErrorAction SilentlyContinue
if (-not $spoolVolume) {
  $raw = Get-Disk | Where-Object PartitionStyle -eq 'RAW' | Sort-Object Number | Select-Object -First 1
  if (-not $raw) { throw 'no data disk found for the spool' }
  Write-Step "formatting data disk $($raw.Number) for the spool"
  $raw | Initialize-Disk -PartitionStyle GPT -PassThru |
    New-Partition -UseMaximumSize -DriveLetter F |
    Format-Volume -FileSystem NTFS -NewFileSystemLabel 'attest-spool' -AllocationUnitSize 65536 -Confirm:$false | Out-Null
  $spoolVolume = Get-Volume -FileSystemLabel 'attest-spool'
}
$spoolDir = "$($spoolVolume.DriveLetter):\attest\spool"
New-Item -ItemType Directory -Force $spoolDir | Out-Null
New-Item -ItemType Directory -Force $ConfigDir | Out-Null
Protect-Path $ConfigDir

# 3 + 4. Secrets and the certificate (PEM: key + chain, stored by the deployment as a secret).
$controlKey = Get-VaultSecret $settings.controlKeySecretUri $clientId
$pem = Get-VaultSecret $settings.certificateSecretUri $clientId
if ($pem -notmatch 'BEGIN CERTIFICATE' -or $pem -notmatch 'PRIVATE KEY') {
  throw "the media certificate (mediaCertificatePem) must be PEM holding the certificate and its private key"
}
$pemFile = Join-Path $ConfigDir 'media-tls.pem'
Set-Content -Path $pemFile -Value $pem -Encoding ascii -NoNewline

# 5. Windows firewall.
$rules = @(
  @{ Name = 'Attest media (Teams)'; Port = $settings.mediaPort },
  @{ Name = 'Attest control (function app subnet)'; Port = $settings.controlPort }
)
foreach ($rule in $rules) {
  Remove-NetFirewallRule -DisplayName $rule.Name -ErrorAction SilentlyContinue
  New-NetFirewallRule -DisplayName $rule.Name -Direction Inbound -Protocol TCP -LocalPort $rule.Port -Action Allow | Out-Null
}

# Machine facts: private address (IMDS), public address and DNS name (Resource Manager, Reader
# role): the bridge's media platform needs the public address whatever name the instance has.
$imds = Invoke-RestMethod -Headers @{ Metadata = 'true' } -Uri 'http://169.254.169.254/metadata/instance?api-version=2021-02-01'
$privateIp = $imds.network.interface[0].ipv4.ipAddress[0].privateIpAddress
$armToken = Get-ImdsToken 'https://management.azure.com/' $clientId
$armHeaders = @{ Authorization = "Bearer $armToken" }
$vm = Invoke-RestMethod -Headers $armHeaders -Uri "https://management.azure.com$($imds.compute.resourceId)?api-version=2024-07-01"
$nic = Invoke-RestMethod -Headers $armHeaders -Uri "https://management.azure.com$($vm.properties.networkProfile.networkInterfaces[0].id)?api-version=2024-01-01"
$pip = Invoke-RestMethod -Headers $armHeaders -Uri "https://management.azure.com$($nic.properties.ipConfigurations[0].properties.publicIPAddress.id)?api-version=2024-01-01"
$publicIp = $pip.properties.ipAddress
$azureFqdn = ''
if (-not $settings.dnsDomain) { $azureFqdn = $pip.properties.dnsSettings.fqdn }

# 6. Settings file and services.
$hasBridge = Test-Path (Join-Path $releaseDir 'bridge')
$configure = Join-Path $releaseDir 'app\media-host\dist\deploy\configure-windows-host.js'
$arguments = @($configure, '--settings-base64', $SettingsBase64, '--computer-name', $env:COMPUTERNAME,
  '--private-ip', $privateIp, '--public-ip', $publicIp, '--azure-fqdn', $azureFqdn, '--release-dir', $releaseDir,
  '--config-dir', $ConfigDir, '--spool-dir', $spoolDir, '--tls-pem-file', $pemFile)
if ($hasBridge) { $arguments += '--bridge' }
# The bridge reads the certificate from LocalMachine\My: configure also writes it as PKCS#12.
$pfxFile = Join-Path $ConfigDir 'media-tls.pfx'
$pfxPassword = [Guid]::NewGuid().ToString('N') + [Guid]::NewGuid().ToString('N')
$arguments += @('--pfx-file', $pfxFile)
$env:ATTEST_INSTALL_CONTROL_KEY = $controlKey
$env:ATTEST_INSTALL_PFX_PASSWORD = $pfxPassword
$services = & $nodeExe @arguments
$configureExit = $LASTEXITCODE
Remove-Item Env:\ATTEST_INSTALL_CONTROL_KEY, Env:\ATTEST_INSTALL_PFX_PASSWORD
if ($configureExit -ne 0) { throw 'configure-windows-host failed' }
Import-PfxCertificate -FilePath $pfxFile -CertStoreLocation Cert:\LocalMachine\My -Password (ConvertTo-SecureString $pfxPassword -AsPlainText -Force) | Out-Null
Remove-Item -Force $pfxFile
Protect-Path $ConfigDir

$serviceDir = Join-Path $releaseDir 'service'
# The bridge's service definition holds its loopback control key.
Protect-Path $serviceDir
foreach ($id in $services) {
  # WinSW looks for <id>.exe beside <id>.xml.
  Copy-Item (Join-Path $serviceDir 'winsw.exe') (Join-Path $serviceDir "$id.exe") -Force
  $existing = Get-CimInstance Win32_Service -Filter "Name='$id'" -ErrorAction SilentlyContinue
  if ($existing -and ($existing.PathName -notlike "*$releaseDir*")) {
    Write-Step "replacing service $id from an earlier release"
    Stop-Service $id -ErrorAction SilentlyContinue
    & $existing.PathName.Trim('"') uninstall | Out-Null
    $existing = $null
  }
  if (-not $existing) { & (Join-Path $serviceDir "$id.exe") install | Out-Null }
  Write-Step "starting $id"
  Restart-Service $id -Force
}
Write-Step "installed $version (services: $($services -join ', '))"
