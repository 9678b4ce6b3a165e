import { compileRoute } from './route-template';

describe('compileRoute', () => {
  it('matches literals case-insensitively and extracts a parameter', () => {
    expect(compileRoute('Calls/{callId}').match('/calls/abc')).toEqual({ callId: 'abc' });
  });

  it('rejects a value that breaks an int constraint', () => {
    const route = compileRoute('items/{id:int}');
    expect(route.match('/items/12')).toEqual({ id: '12' });
    expect(route.match('/items/x12')).toBeUndefined();
  });

  it('accepts unknown constraints without checking them', () => {
    expect(compileRoute('a/{v:regex(^x$)}').match('/a/anything')).toEqual({ v: 'anything' });
  });

  it('treats an optional and a defaulted parameter as optional', () => {
    expect(compileRoute('greet/{name?}').match('/greet')).toEqual({});
    expect(compileRoute('page/{n=1}').match('/page')).toEqual({ n: '1' });
  });

  it('captures the rest of the path in a catch-all, including nothing', () => {
    const route = compileRoute('files/{*path}');
    expect(route.match('/files/a/b%20c')).toEqual({ path: 'a/b c' });
    expect(route.match('/files')).toEqual({});
  });

  it('matches a segment mixing literals and parameters', () => {
    expect(compileRoute('f/{name}.{ext}').match('/f/report.pdf')).toEqual({
      name: 'report',
      ext: 'pdf',
    });
  });

  it('ranks literal segments above parameters and catch-alls last', () => {
    const literal = compileRoute('items/new').precedence;
    const parameter = compileRoute('items/{id}').precedence;
    const catchAll = compileRoute('items/{*rest}').precedence;
    expect(literal).toBeGreaterThan(parameter);
    expect(parameter).toBeGreaterThan(catchAll);
  });

  it('refuses a catch-all that is not last', () => {
    expect(() => compileRoute('{*a}/b')).toThrow('Catch-all must be the last segment');
  });

  it('does not match a malformed percent-encoding', () => {
    expect(compileRoute('x/{v}').match('/x/%E0%A4%A')).toBeUndefined();
  });
});
