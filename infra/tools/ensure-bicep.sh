#!/usr/bin/env bash
# Prints the path of a Bicep CLI, fetching it from NuGet into the git-ignored .data/ on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
if command -v bicep >/dev/null 2>&1; then command -v bicep; exit 0; fi
packages="$root/.data/nuget"
cli="$(find "$packages" -path '*azure.bicep.commandline.linux-x64*' -name bicep -type f 2>/dev/null | head -n 1 || true)"
if [ -z "$cli" ]; then
  dotnet restore "$here/bicep-cli.csproj" --packages "$packages" >&2
  cli="$(find "$packages" -path '*azure.bicep.commandline.linux-x64*' -name bicep -type f | head -n 1)"
fi
chmod +x "$cli"
echo "$cli"
