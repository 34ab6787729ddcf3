import { safeReturnTo } from '../../src/web/return-to';

describe('safeReturnTo', () => {
  it.each([
    ['/articles/harbour-bridge-reopens', '/articles/harbour-bridge-reopens'],
    ['/articles/x?ref=front#comments', '/articles/x?ref=front#comments'],
    ['/a/../account', '/account'],
  ])('keeps the same-site path %s', (value, expected) => {
    expect(safeReturnTo(value)).toBe(expected);
  });

  it.each([
    'https://other.example/',
    '//other.example/x',
    '/\\other.example',
    '/.//other.example',
    '/a/..//other.example',
    '/%2e//other.example',
    '/./\\other.example',
    'javascript:alert(1)',
    'articles/relative',
    '/a\u0000b',
    '/a\nb',
    `/${'a'.repeat(2048)}`,
    '',
  ])('falls back to / for %j', (value) => {
    expect(safeReturnTo(value)).toBe('/');
  });

  it.each([undefined, null, 42, ['/account'], { path: '/account' }])('falls back to / for a %p', (value) => {
    expect(safeReturnTo(value)).toBe('/');
  });
});
