import { validateFrontDoorRoute, WebhookFrontDoor } from './front-door';

const PUBLIC = 'http://127.0.0.1:7071';
const A = 'http://127.0.0.1:7101';
const B = 'http://127.0.0.1:7102';

describe('webhook front door', () => {
  it('delivers to the URL as given while no route names its origin', () => {
    const door = new WebhookFrontDoor();
    door.setRoutes([
      { publicOrigin: 'http://127.0.0.1:9999', instanceOrigins: [A], affinity: 'perLeg' },
    ]);
    expect(door.route(`${PUBLIC}/api/calling`, 'leg-1')).toBe(`${PUBLIC}/api/calling`);
  });

  it('keeps each leg on one instance and gives each new leg the next instance', () => {
    const door = new WebhookFrontDoor();
    door.setRoutes([{ publicOrigin: PUBLIC, instanceOrigins: [A, B], affinity: 'perLeg' }]);
    expect(door.route(`${PUBLIC}/api/calling?x=1`, 'leg-1')).toBe(`${A}/api/calling?x=1`);
    expect(door.route(`${PUBLIC}/api/calling`, 'leg-2')).toBe(`${B}/api/calling`);
    expect(door.route(`${PUBLIC}/api/calling`, 'leg-1')).toBe(`${A}/api/calling`);
    expect(door.route(`${PUBLIC}/api/calling`, 'leg-2')).toBe(`${B}/api/calling`);
    expect(door.route(`${PUBLIC}/api/calling`, 'leg-3')).toBe(`${A}/api/calling`);
  });

  it('takes the next instance for every delivery with perDelivery affinity', () => {
    const door = new WebhookFrontDoor();
    door.setRoutes([{ publicOrigin: PUBLIC, instanceOrigins: [A, B], affinity: 'perDelivery' }]);
    const targets = [1, 2, 3].map(
      () => new URL(door.route(`${PUBLIC}/api/calling`, 'leg-1')).origin,
    );
    expect(targets).toEqual([A, B, A]);
  });

  it('names every problem of a route the control API receives', () => {
    expect(
      validateFrontDoorRoute({
        publicOrigin: `${PUBLIC}/api`,
        instanceOrigins: [],
        affinity: 'sticky',
      }),
    ).toEqual([
      'publicOrigin must be an origin like http://127.0.0.1:7071 (no path)',
      'instanceOrigins must be a non-empty list of origins',
      'affinity must be perLeg or perDelivery',
    ]);
    expect(
      validateFrontDoorRoute({ publicOrigin: PUBLIC, instanceOrigins: [A, B], affinity: 'perLeg' }),
    ).toEqual([]);
  });
});
