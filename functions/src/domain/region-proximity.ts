/**
 * How near a media host's region is to a call's media. A call's region hint is either a Teams
 * media region code (`applicationMetadata.botData.mediaHostedRegion`, e.g. `USEA`, `EUNO`,
 * `JPEA`) or an Azure region name (`westeurope`); a host reports its Azure region. Both resolve
 * to a point on the map, and the distance between the points orders the regions: the host
 * nearest the call's media first, the next nearest when that region is full. Pure.
 * The rule is documented in docs/media-host-fleet.md.
 */

interface Point {
  readonly latitude: number;
  readonly longitude: number;
}

/** Azure regions with the coordinates Azure publishes for them (`az account list-locations`). */
const AZURE_REGIONS: Readonly<Record<string, Point>> = {
  eastus: { latitude: 37.3719, longitude: -79.8164 },
  eastus2: { latitude: 36.6681, longitude: -78.3889 },
  centralus: { latitude: 41.5908, longitude: -93.6208 },
  northcentralus: { latitude: 41.8819, longitude: -87.6278 },
  southcentralus: { latitude: 29.4167, longitude: -98.5 },
  westcentralus: { latitude: 40.89, longitude: -110.234 },
  westus: { latitude: 37.783, longitude: -122.417 },
  westus2: { latitude: 47.233, longitude: -119.852 },
  westus3: { latitude: 33.448, longitude: -112.074 },
  canadacentral: { latitude: 43.653, longitude: -79.383 },
  canadaeast: { latitude: 46.817, longitude: -71.217 },
  brazilsouth: { latitude: -23.55, longitude: -46.633 },
  northeurope: { latitude: 53.3478, longitude: -6.2597 },
  westeurope: { latitude: 52.3667, longitude: 4.9 },
  uksouth: { latitude: 50.941, longitude: -0.799 },
  ukwest: { latitude: 53.427, longitude: -3.084 },
  francecentral: { latitude: 46.3772, longitude: 2.373 },
  germanywestcentral: { latitude: 50.1109, longitude: 8.6821 },
  switzerlandnorth: { latitude: 47.4515, longitude: 8.5646 },
  norwayeast: { latitude: 59.9139, longitude: 10.7522 },
  swedencentral: { latitude: 60.6749, longitude: 17.1413 },
  polandcentral: { latitude: 52.2333, longitude: 21.0167 },
  italynorth: { latitude: 45.4689, longitude: 9.1811 },
  southeastasia: { latitude: 1.283, longitude: 103.833 },
  eastasia: { latitude: 22.267, longitude: 114.188 },
  japaneast: { latitude: 35.68, longitude: 139.77 },
  japanwest: { latitude: 34.6939, longitude: 135.5022 },
  koreacentral: { latitude: 37.5665, longitude: 126.978 },
  australiaeast: { latitude: -33.86, longitude: 151.2094 },
  australiasoutheast: { latitude: -37.8136, longitude: 144.9631 },
  centralindia: { latitude: 18.5822, longitude: 73.9197 },
  southindia: { latitude: 12.9822, longitude: 80.1636 },
  southafricanorth: { latitude: -25.7313, longitude: 28.2184 },
  uaenorth: { latitude: 25.2667, longitude: 55.3167 },
};

/**
 * Teams media region codes and the Azure region each stands for. `USEA`, `EUNO` and `JPEA` are
 * seen in real invites; the others follow the same pattern (two letters of the geography, two of
 * the direction). An unknown code resolves to nothing and the caller's default region applies.
 */
const TEAMS_REGION_CODES: Readonly<Record<string, string>> = {
  USEA: 'eastus',
  USCE: 'centralus',
  USNC: 'northcentralus',
  USSC: 'southcentralus',
  USWE: 'westus',
  CACE: 'canadacentral',
  CAEA: 'canadaeast',
  BRSO: 'brazilsouth',
  EUWE: 'westeurope',
  EUNO: 'northeurope',
  UKSO: 'uksouth',
  UKWE: 'ukwest',
  FRCE: 'francecentral',
  DEWC: 'germanywestcentral',
  CHNO: 'switzerlandnorth',
  NOEA: 'norwayeast',
  SECE: 'swedencentral',
  APSE: 'southeastasia',
  APEA: 'eastasia',
  JPEA: 'japaneast',
  JPWE: 'japanwest',
  KRCE: 'koreacentral',
  AUEA: 'australiaeast',
  AUSE: 'australiasoutheast',
  INCE: 'centralindia',
  INSO: 'southindia',
  ZANO: 'southafricanorth',
  AENO: 'uaenorth',
};

/**
 * The Azure region a hint names: an Azure region name (any case, spaces or dashes ignored:
 * `West Europe`), or a Teams media region code (`EUWE`). Undefined when unknown.
 */
export function azureRegionOf(hint: string | undefined): string | undefined {
  if (hint === undefined) return undefined;
  const name = hint.toLowerCase().replace(/[\s_-]/g, '');
  if (AZURE_REGIONS[name] !== undefined) return name;
  return TEAMS_REGION_CODES[hint.trim().toUpperCase()];
}

const EARTH_RADIUS_IN_KM = 6371;

function greatCircleInKm(a: Point, b: Point): number {
  const rad = (degrees: number): number => (degrees * Math.PI) / 180;
  const dLat = rad(b.latitude - a.latitude);
  const dLon = rad(b.longitude - a.longitude);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(rad(a.latitude)) * Math.cos(rad(b.latitude)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_IN_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Distance in km from a call's region hint to a host's region: 0 for the same region (also for
 * names of the deployment's own, such as `local`, compared case-insensitively), the great-circle
 * distance between two known regions, and `Infinity` when either is unknown (such hosts come
 * after every host whose distance is known). With no hint every host is at distance 0.
 */
export function regionDistanceInKm(callRegion: string | undefined, hostRegion: string): number {
  if (callRegion === undefined) return 0;
  if (callRegion.trim().toLowerCase() === hostRegion.trim().toLowerCase()) return 0;
  const from = azureRegionOf(callRegion);
  const to = azureRegionOf(hostRegion);
  if (from === undefined || to === undefined) return Infinity;
  if (from === to) return 0;
  const a = AZURE_REGIONS[from];
  const b = AZURE_REGIONS[to];
  return a === undefined || b === undefined ? Infinity : greatCircleInKm(a, b);
}
