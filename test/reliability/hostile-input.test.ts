import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ErrorCode } from '../../src/errors';
import { signHook } from 'vf-login-bridge';
import { csrfFrom, register, sessionCookie } from '../helpers/browser-flow';
import { TEST_API_KEY } from '../helpers/emulator';
import { sendRaw, type RawRequest, type RawResponse } from '../helpers/raw-http';
import { startTestSite, TEST_HOOK_SECRET, TEST_PASSWORD, TEST_SESSION_SECRET, type TestSite } from '../helpers/site';

/**
 * Malformed and hostile requests across every route, sent as raw bytes. Each must get the 4xx
 * named in its row with a plain message, change nothing (database rows, sessions, platform calls)
 * and leak nothing (no stack trace, no secret, no reflected markup).
 */

interface Party {
  /** the cookie's value, signed and URL-encoded as the site set it */
  cookie: string;
  /** `vfb.sid` unless said otherwise */
  cookieName?: string;
  csrf: string;
}

interface Context {
  reader: Party & { userId: string; email: string };
  /** an anonymous visitor with a CSRF token and its double-submit cookie (it opened the register form) */
  visitor: Party;
  /** another account: its email is taken */
  otherEmail: string;
  nowSeconds(): number;
}

type Who = 'reader' | 'visitor' | 'nobody';

interface HostileCase {
  name: string;
  request(ctx: Context): RawRequest;
  status: number;
  /** the error code of a JSON answer; HTML answers are checked for their message instead */
  code?: ErrorCode;
  /** answered by the HTTP server before the app: a status line and no page */
  byServer?: boolean;
  /** runs before the "before" snapshot */
  prepare?(ctx: Context, port: number): Promise<void>;
}

const ARTICLE = '/articles/harbour-bridge-reopens';
const XSS = '<script>alert(1)</script>';
const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

const enc = encodeURIComponent;
const partyOf = (ctx: Context, who: Who): Party | undefined => (who === 'nobody' ? undefined : ctx[who]);
const cookieHeader = (party: Party | undefined): Array<[string, string]> => (party ? [['Cookie', `${party.cookieName ?? 'vfb.sid'}=${party.cookie}`]] : []);

/** A form post as a browser sends it, with the party's CSRF token as the first field. */
function formPost(path: string, fields: string | ((ctx: Context) => string), who: Who = 'visitor', extraHeaders: Array<[string, string]> = []) {
  return (ctx: Context): RawRequest => {
    const party = partyOf(ctx, who);
    const rest = typeof fields === 'function' ? fields(ctx) : fields;
    const body = [party ? `_csrf=${enc(party.csrf)}` : '', rest].filter(Boolean).join('&');
    return { method: 'POST', target: path, headers: [['Content-Type', FORM], ...cookieHeader(party), ...extraHeaders], body };
  };
}

/** An AJAX post: the CSRF token in its header, an answer asked for as JSON. */
function ajaxPost(path: string, body: string | Buffer | ((ctx: Context) => string), who: Who = 'visitor', contentType = JSON_TYPE, extraHeaders: Array<[string, string]> = []) {
  return (ctx: Context): RawRequest => {
    const party = partyOf(ctx, who);
    return {
      method: 'POST',
      target: path,
      headers: [['Content-Type', contentType], ['Accept', JSON_TYPE], ...(party ? ([['X-CSRF-Token', party.csrf]] as Array<[string, string]>) : []), ...cookieHeader(party), ...extraHeaders],
      body: typeof body === 'function' ? body(ctx) : body,
    };
  };
}

function plain(method: string, target: string | Buffer, who: Who = 'nobody', headers: Array<[string, string]> = []) {
  return (ctx: Context): RawRequest => ({ method, target, headers: [...cookieHeader(partyOf(ctx, who)), ...headers] });
}

/** The logout hook, signed over `signedBody` (the sent body unless given) at `skewSeconds` from now. */
function hook(body: string | Buffer, options: { signedBody?: string; skewSeconds?: number; secret?: string; signature?: string; contentType?: string } = {}) {
  return (ctx: Context): RawRequest => {
    const signature = options.signature ?? signHook(options.secret ?? TEST_HOOK_SECRET, ctx.nowSeconds() + (options.skewSeconds ?? 0), options.signedBody ?? body);
    const headers: Array<[string, string]> = [['Content-Type', options.contentType ?? JSON_TYPE]];
    if (signature !== '') headers.push(['X-Hook-Signature', signature]);
    return { method: 'POST', target: '/hooks/logout', headers, body };
  };
}

const validRegister = (email = 'newcomer@example.com', name = 'New Comer') => `email=${enc(email)}&name=${enc(name)}&password=${enc(TEST_PASSWORD)}`;
const validLogin = (ctx: Context) => `email=${enc(ctx.reader.email)}&password=${enc(TEST_PASSWORD)}`;

// --- the table -----------------------------------------------------------------------------

const wrongMethods: HostileCase[] = [
  ...['/', ARTICLE, '/api/session', '/healthz', '/readyz', '/metrics'].flatMap((path) =>
    ['POST', 'PUT', 'DELETE', 'PATCH'].map((method) => ({ name: `${method} ${path}`, request: plain(method, path, 'reader'), status: 405, code: undefined })),
  ),
  ...['/login', '/register', '/account'].flatMap((path) =>
    ['PUT', 'DELETE', 'PATCH', 'OPTIONS'].map((method) => ({ name: `${method} ${path}`, request: plain(method, path, 'reader'), status: 405 })),
  ),
  ...['GET', 'PUT', 'DELETE'].map((method) => ({ name: `${method} /logout as a logged-in reader`, request: plain(method, '/logout', 'reader'), status: 405 })),
  ...['GET', 'PUT', 'DELETE'].map((method) => ({ name: `${method} /hooks/logout`, request: plain(method, '/hooks/logout'), status: 405, code: 'METHOD_NOT_ALLOWED' as const })),
  { name: 'TRACE / (would echo the cookie back)', request: plain('TRACE', '/', 'reader'), status: 405 },
  { name: 'PROPFIND / (WebDAV)', request: plain('PROPFIND', '/', 'reader'), status: 405 },
  { name: 'POST to an unknown path', request: formPost('/admin', 'x=1', 'reader'), status: 404 },
  { name: 'DELETE an unknown path', request: plain('DELETE', '/users/1', 'reader'), status: 404 },
  { name: 'POST to a sub-path of the hook', request: plain('POST', '/hooks/logout/all'), status: 404 },
];

const csrf: HostileCase[] = [
  { name: 'logout form without a token', request: (ctx) => ({ ...formPost('/logout', '', 'nobody')(ctx), headers: [['Content-Type', FORM], ...cookieHeader(ctx.reader)] }), status: 403 },
  { name: 'logout form with a wrong token', request: (ctx) => ({ ...formPost('/logout', '_csrf=not-the-token', 'nobody')(ctx), headers: [['Content-Type', FORM], ...cookieHeader(ctx.reader)] }), status: 403 },
  { name: 'logout with the visitor’s token on the reader’s session', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Content-Type', FORM], ...cookieHeader(ctx.reader)], body: `_csrf=${enc(ctx.visitor.csrf)}` }), status: 403 },
  { name: 'logout AJAX with the token in the query string', request: (ctx) => ({ method: 'POST', target: `/logout?_csrf=${enc(ctx.reader.csrf)}`, headers: [['Accept', JSON_TYPE], ...cookieHeader(ctx.reader)] }), status: 403, code: 'CSRF_INVALID' },
  { name: 'logout AJAX with an empty token header', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Accept', JSON_TYPE], ['X-CSRF-Token', ''], ...cookieHeader(ctx.reader)] }), status: 403, code: 'CSRF_INVALID' },
  { name: 'logout AJAX with the token upper-cased', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Accept', JSON_TYPE], ['X-CSRF-Token', ctx.reader.csrf.toUpperCase()], ...cookieHeader(ctx.reader)] }), status: 403, code: 'CSRF_INVALID' },
  { name: 'logout AJAX with the token cut short', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Accept', JSON_TYPE], ['X-CSRF-Token', ctx.reader.csrf.slice(0, -1)], ...cookieHeader(ctx.reader)] }), status: 403, code: 'CSRF_INVALID' },
  { name: 'logout AJAX with the token plus a character', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Accept', JSON_TYPE], ['X-CSRF-Token', `${ctx.reader.csrf}x`], ...cookieHeader(ctx.reader)] }), status: 403, code: 'CSRF_INVALID' },
  { name: 'logout AJAX with an 8 KiB token', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Accept', JSON_TYPE], ['X-CSRF-Token', 'a'.repeat(8192)], ...cookieHeader(ctx.reader)] }), status: 403, code: 'CSRF_INVALID' },
  { name: 'logout form with the token given twice', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Content-Type', FORM], ...cookieHeader(ctx.reader)], body: `_csrf=${enc(ctx.reader.csrf)}&_csrf=${enc(ctx.reader.csrf)}` }), status: 403 },
  { name: 'logout with the token in a cookie', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Cookie', `vfb.sid=${ctx.reader.cookie}; _csrf=${enc(ctx.reader.csrf)}`]] }), status: 403 },
  { name: 'logout with the reader’s token and no session cookie', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Content-Type', FORM]], body: `_csrf=${enc(ctx.reader.csrf)}` }), status: 403 },
  { name: 'account change without a token', request: (ctx) => ({ method: 'POST', target: '/account', headers: [['Content-Type', FORM], ...cookieHeader(ctx.reader)], body: 'name=Hijacked&email=attacker%40example.com' }), status: 403 },
  { name: 'account change with the visitor’s token', request: (ctx) => ({ method: 'POST', target: '/account', headers: [['Content-Type', FORM], ...cookieHeader(ctx.reader)], body: `_csrf=${enc(ctx.visitor.csrf)}&name=Hijacked&email=attacker%40example.com` }), status: 403 },
  { name: 'account change by JSON with no token header', request: (ctx) => ({ method: 'POST', target: '/account', headers: [['Content-Type', JSON_TYPE], ['Accept', JSON_TYPE], ...cookieHeader(ctx.reader)], body: '{"name":"Hijacked","email":"attacker@example.com"}' }), status: 403, code: 'CSRF_INVALID' },
  { name: 'account change by a cross-site text/plain form', request: (ctx) => ({ method: 'POST', target: '/account', headers: [['Content-Type', 'text/plain'], ...cookieHeader(ctx.reader)], body: 'name=Hijacked&email=attacker@example.com' }), status: 403 },
  { name: 'login form without a token', request: formPost('/login', validLogin, 'nobody'), status: 403 },
  { name: 'login form with a token but no session', request: (ctx) => ({ method: 'POST', target: '/login', headers: [['Content-Type', FORM]], body: `_csrf=${enc(ctx.visitor.csrf)}&${validLogin(ctx)}` }), status: 403 },
  { name: 'register form without a token', request: formPost('/register', validRegister('no-token@example.com'), 'nobody'), status: 403 },
  { name: 'register with a forged session cookie', request: (ctx) => ({ method: 'POST', target: '/register', headers: [['Content-Type', FORM], ['Cookie', 'vfb.sid=s%3Aforged.c2lnbmF0dXJl']], body: `_csrf=${enc(ctx.visitor.csrf)}&${validRegister('forged@example.com')}` }), status: 403 },
  { name: 'logout with the reader’s session id re-signed by an attacker', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Content-Type', FORM], ['Cookie', `vfb.sid=${ctx.reader.cookie.replace(/\.[^.]*$/, '.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')}`]], body: `_csrf=${enc(ctx.reader.csrf)}` }), status: 403 },
  { name: 'logout with the reader’s session id unsigned', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Content-Type', FORM], ['Cookie', `vfb.sid=${decodeURIComponent(ctx.reader.cookie).replace(/^s:/, '').replace(/\.[^.]*$/, '')}`]], body: `_csrf=${enc(ctx.reader.csrf)}` }), status: 403 },
  { name: 'logout with the session cookie given twice, a forged one first', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Content-Type', FORM], ['Cookie', `vfb.sid=s%3Aforged.sig; vfb.sid=${ctx.reader.cookie}`]], body: `_csrf=${enc(ctx.reader.csrf)}` }), status: 403 },
];

const registerBodies: Array<[string, string | ((ctx: Context) => string)]> = [
  ['no fields at all', ''],
  ['no email', `name=N&password=${enc(TEST_PASSWORD)}`],
  ['no name', `email=a1%40example.com&password=${enc(TEST_PASSWORD)}`],
  ['no password', 'email=a2%40example.com&name=N'],
  ['an empty email', `email=&name=N&password=${enc(TEST_PASSWORD)}`],
  ['a blank name', `email=a3%40example.com&name=%20%20%20&password=${enc(TEST_PASSWORD)}`],
  ['an empty password', 'email=a4%40example.com&name=N&password='],
  ['a nine-character password', 'email=a5%40example.com&name=N&password=123456789'],
  ['a 257-character password', `email=a6%40example.com&name=N&password=${'p'.repeat(257)}`],
  ['an email without a domain', validRegister('reader@')],
  ['an email without a local part', validRegister('@example.com')],
  ['an email with a space', validRegister('a b@example.com')],
  ['an email with a newline and a header', validRegister('a7@example.com\r\nBcc: all@example.com')],
  ['an email with a NUL byte', validRegister('a8@example.com\u0000')],
  ['an email of 300 characters', validRegister(`${'e'.repeat(288)}@example.com`)],
  ['an email given twice', `email=a9%40example.com&email=b9%40example.com&name=N&password=${enc(TEST_PASSWORD)}`],
  ['the name given twice', `email=a10%40example.com&name=A&name=B&password=${enc(TEST_PASSWORD)}`],
  ['the password given twice', `email=a11%40example.com&name=N&password=${enc(TEST_PASSWORD)}&password=${enc(TEST_PASSWORD)}`],
  ['nested-looking keys', `email[address]=a12%40example.com&name=N&password=${enc(TEST_PASSWORD)}`],
  ['a 101-character name', validRegister('a13@example.com', 'n'.repeat(101))],
  ['a 10,000-character name', validRegister('a14@example.com', 'n'.repeat(10_000))],
  ['a name with a NUL byte', validRegister('a15@example.com', 'A\u0000B')],
  ['a name with an escape sequence', validRegister('a16@example.com', 'A\u001b[31mB')],
  ['a name with a carriage return and line feed', validRegister('a17@example.com', 'A\r\nSet-Cookie: x=1')],
  ['a name with DEL', validRegister('a18@example.com', 'A\u007fB')],
  ['a name with a tab', validRegister('a19@example.com', 'A\tB')],
  ['an email already taken', (ctx) => validRegister(ctx.otherEmail)],
  ['the email taken, in capitals', (ctx) => validRegister(ctx.otherEmail.toUpperCase())],
  ['the email taken, with spaces around it', (ctx) => validRegister(`  ${ctx.otherEmail}  `)],
  ['21 fields (over the field limit)', `${validRegister('a20@example.com')}&${Array.from({ length: 17 }, (_, i) => `f${i}=1`).join('&')}`],
  ['a body over 16 KiB', `${validRegister('a21@example.com')}&pad=${'x'.repeat(17_000)}`],
  ['SQL in the email', validRegister("a22@example.com' OR '1'='1")],
  ['markup in the email', validRegister(`${XSS}@example.com`)],
  ['a data: URL as the email', validRegister('data:text/html,<b>x</b>')],
];

const loginBodies: Array<[string, string | ((ctx: Context) => string), number]> = [
  ['no fields at all', '', 400],
  ['no password', (ctx) => `email=${enc(ctx.reader.email)}`, 400],
  ['no email', `password=${enc(TEST_PASSWORD)}`, 400],
  ['an empty password', (ctx) => `email=${enc(ctx.reader.email)}&password=`, 400],
  ['the email given twice', (ctx) => `email=${enc(ctx.reader.email)}&email=${enc(ctx.reader.email)}&password=${enc(TEST_PASSWORD)}`, 400],
  ['the password given twice', (ctx) => `email=${enc(ctx.reader.email)}&password=${enc(TEST_PASSWORD)}&password=x`, 400],
  ['nested-looking keys', (ctx) => `email[$ne]=${enc(ctx.reader.email)}&password[$ne]=x`, 400],
  ['a wrong password', (ctx) => `email=${enc(ctx.reader.email)}&password=wrong-password-123`, 401],
  ['an unknown email', `email=nobody-here%40example.com&password=${enc(TEST_PASSWORD)}`, 401],
  ['SQL in the email', `email=${enc("' OR 1=1 --")}&password=x`, 401],
  ['SQL in the password', (ctx) => `email=${enc(ctx.reader.email)}&password=${enc("' OR '1'='1")}`, 401],
  ['a 300-character email', `email=${'e'.repeat(288)}%40example.com&password=x`, 400],
  ['a 257-character password', (ctx) => `email=${enc(ctx.reader.email)}&password=${'p'.repeat(257)}`, 400],
  ['a 15,000-character password', (ctx) => `email=${enc(ctx.reader.email)}&password=${'p'.repeat(15_000)}`, 400],
  ['a body over 16 KiB', (ctx) => `email=${enc(ctx.reader.email)}&password=${'p'.repeat(17_000)}`, 413],
  ['21 fields', (ctx) => `${validLogin(ctx)}&${Array.from({ length: 18 }, (_, i) => `f${i}=1`).join('&')}`, 413],
  ['the password with a NUL byte after it', (ctx) => `email=${enc(ctx.reader.email)}&password=${enc(`${TEST_PASSWORD}\u0000`)}`, 401],
  ['markup in the email', `email=${enc(XSS)}&password=x`, 401],
];

const accountBodies: Array<[string, string | ((ctx: Context) => string), number]> = [
  ['no fields', '', 400],
  ['an invalid email', 'name=Still%20Me&email=not-an-email', 400],
  ['an empty name', (ctx) => `name=&email=${enc(ctx.reader.email)}`, 400],
  ['a 101-character name', (ctx) => `name=${'n'.repeat(101)}&email=${enc(ctx.reader.email)}`, 400],
  ['a name with a NUL byte', (ctx) => `name=A%00B&email=${enc(ctx.reader.email)}`, 400],
  ['a name with a newline', (ctx) => `name=A%0AB&email=${enc(ctx.reader.email)}`, 400],
  ['the name given twice', (ctx) => `name=A&name=B&email=${enc(ctx.reader.email)}`, 400],
  ['another reader’s email', (ctx) => `name=Still%20Me&email=${enc(ctx.otherEmail)}&currentPassword=${enc(TEST_PASSWORD)}`, 409],
  ['another reader’s email in capitals', (ctx) => `name=Still%20Me&email=${enc(ctx.otherEmail.toUpperCase())}&currentPassword=${enc(TEST_PASSWORD)}`, 409],
  ['another reader’s email without the current password', (ctx) => `name=Still%20Me&email=${enc(ctx.otherEmail)}`, 400],
  ['another reader’s email with a wrong current password', (ctx) => `name=Still%20Me&email=${enc(ctx.otherEmail)}&currentPassword=not-it-at-all`, 401],
  ['a 300-character email', `name=Still%20Me&email=${'e'.repeat(288)}%40example.com`, 400],
  ['a body over 16 KiB', (ctx) => `name=${'n'.repeat(17_000)}&email=${enc(ctx.reader.email)}`, 413],
];

const formCases: HostileCase[] = [
  ...registerBodies.map(([label, body]): HostileCase => {
    const status = /taken/.test(label) ? 409 : /over 16 KiB|field limit/.test(label) ? 413 : 400;
    return { name: `register form with ${label}`, request: formPost('/register', body), status };
  }),
  ...loginBodies.map(([label, body, status]): HostileCase => ({ name: `login form with ${label}`, request: formPost('/login', body), status })),
  ...accountBodies.map(([label, body, status]): HostileCase => ({ name: `account form with ${label}`, request: formPost('/account', body, 'reader'), status })),
  { name: 'account form from a visitor who is not logged in', request: formPost('/account', 'name=X&email=x%40example.com', 'visitor'), status: 401 },
];

const jsonCases: HostileCase[] = [
  ...[
    ['an unterminated object', '{"email": '],
    ['a trailing comma', '{"email":"a@example.com",}'],
    ['single quotes', "{'email':'a@example.com'}"],
    ['a bare word', 'nul'],
    ['NaN', '{"email":NaN}'],
    ['a top-level string', '"a@example.com"'],
    ['a top-level number', '42'],
    ['a top-level null', 'null'],
    ['a top-level true', 'true'],
    ['comments', '{/* x */"email":"a@example.com"}'],
    ['an empty body', ''],
  ].flatMap(([label, body]) =>
    ['/register', '/login', '/account'].map((path): HostileCase => ({
      name: `JSON ${path} with ${label}`,
      request: ajaxPost(path, body!, path === '/account' ? 'reader' : 'visitor'),
      status: 400,
      code: body === '' ? 'VALIDATION_FAILED' : 'MALFORMED_BODY',
    })),
  ),
  ...[
    ['a top-level array', '[1,2,3]'],
    ['numbers for strings', '{"email":42,"name":7,"password":1234567890123}'],
    ['arrays for strings', '{"email":["a@example.com"],"name":["N"],"password":["correct horse battery"]}'],
    ['objects for strings', '{"email":{"$ne":null},"name":{},"password":{"$gt":""}}'],
    ['booleans', '{"email":true,"name":false,"password":true}'],
    ['nulls', '{"email":null,"name":null,"password":null}'],
    ['a __proto__ key', '{"__proto__":{"isAdmin":true}}'],
    ['a constructor.prototype key', '{"constructor":{"prototype":{"isAdmin":true}}}'],
    ['deep nesting', `{"email":${'['.repeat(2000)}${']'.repeat(2000)}}`],
    ['a 10,000-character email', `{"email":"${'e'.repeat(10_000)}@example.com","name":"N","password":"correct horse battery"}`],
  ].flatMap(([label, body]) =>
    ['/register', '/login'].map((path): HostileCase => ({ name: `JSON ${path} with ${label}`, request: ajaxPost(path, body!), status: 400, code: 'VALIDATION_FAILED' })),
  ),
  { name: 'JSON /register with a 10,000-character name', request: ajaxPost('/register', `{"email":"json-long@example.com","name":"${'n'.repeat(10_000)}","password":"correct horse battery"}`), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'JSON /register over 16 KiB', request: ajaxPost('/register', `{"email":"big@example.com","name":"${'n'.repeat(17_000)}","password":"correct horse battery"}`), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { name: 'JSON /account with numbers for strings', request: ajaxPost('/account', '{"name":1,"email":2}', 'reader'), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'JSON /account with another reader’s email', request: ajaxPost('/account', (ctx) => JSON.stringify({ name: 'Still Me', email: ctx.otherEmail, currentPassword: TEST_PASSWORD }), 'reader'), status: 409, code: 'EMAIL_TAKEN' },
  { name: 'JSON /login with a wrong password', request: ajaxPost('/login', (ctx) => JSON.stringify({ email: ctx.reader.email, password: 'wrong-password-123' })), status: 401, code: 'INVALID_CREDENTIALS' },
  { name: 'JSON /account from a visitor who is not logged in', request: ajaxPost('/account', '{"name":"X","email":"x@example.com"}', 'visitor'), status: 401, code: 'UNAUTHENTICATED' },
];

const encodings: HostileCase[] = [
  { name: 'register form with a raw 0xFF byte in the name', request: (ctx) => ({ ...formPost('/register', '')(ctx), body: Buffer.concat([Buffer.from(`_csrf=${enc(ctx.visitor.csrf)}&${validRegister('bytes1@example.com', 'A')}`), Buffer.from([0xff])]) }), status: 400 },
  { name: 'register form with an overlong UTF-8 slash', request: (ctx) => ({ ...formPost('/register', '')(ctx), body: Buffer.concat([Buffer.from(`_csrf=${enc(ctx.visitor.csrf)}&${validRegister('bytes2@example.com', 'A')}`), Buffer.from([0xc0, 0xaf])]) }), status: 400 },
  { name: 'register form with a lone UTF-8 continuation byte', request: (ctx) => ({ ...formPost('/register', '')(ctx), body: Buffer.concat([Buffer.from(`_csrf=${enc(ctx.visitor.csrf)}&${validRegister('bytes3@example.com', 'A')}`), Buffer.from([0x80])]) }), status: 400 },
  { name: 'register form with a UTF-16 surrogate encoded in UTF-8', request: (ctx) => ({ ...formPost('/register', '')(ctx), body: Buffer.concat([Buffer.from(`_csrf=${enc(ctx.visitor.csrf)}&${validRegister('bytes4@example.com', 'A')}`), Buffer.from([0xed, 0xa0, 0x80])]) }), status: 400 },
  { name: 'login form with a truncated UTF-8 sequence', request: (ctx) => ({ ...formPost('/login', '')(ctx), body: Buffer.concat([Buffer.from(`_csrf=${enc(ctx.visitor.csrf)}&${validLogin(ctx)}`), Buffer.from([0xe2, 0x82])]) }), status: 400 },
  { name: 'account form with a raw 0xFE byte', request: (ctx) => ({ ...formPost('/account', '', 'reader')(ctx), body: Buffer.concat([Buffer.from(`_csrf=${enc(ctx.reader.csrf)}&email=${enc(ctx.reader.email)}&name=A`), Buffer.from([0xfe])]) }), status: 400 },
  { name: 'JSON register with a raw 0xFF byte in a string', request: ajaxPost('/register', Buffer.concat([Buffer.from('{"email":"bytes5@example.com","name":"A'), Buffer.from([0xff]), Buffer.from('","password":"correct horse battery"}')])), status: 400, code: 'MALFORMED_BODY' },
  { name: 'JSON account with a raw 0xC3 0x28', request: ajaxPost('/account', Buffer.concat([Buffer.from('{"name":"A'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]), 'reader'), status: 400, code: 'MALFORMED_BODY' },
  { name: 'register form with a percent-escaped 0xFF in the name', request: formPost('/register', `${validRegister('escaped1@example.com', 'A')}%FF`), status: 400 },
  { name: 'login form with a percent-escaped lone surrogate', request: (ctx) => formPost('/login', `email=${enc(ctx.reader.email)}&password=%ED%A0%80`)(ctx), status: 400 },
  { name: 'account form with a broken percent escape', request: (ctx) => formPost('/account', `email=${enc(ctx.reader.email)}&name=A%E2%82`, 'reader')(ctx), status: 400 },
  { name: 'a GET of /Logout/ (Express routes ignore case and a trailing slash)', request: plain('GET', '/Logout/', 'reader'), status: 405 },
  { name: 'register form declared ISO-8859-1', request: formPost('/register', validRegister('latin@example.com'), 'visitor'), status: 415 },
  { name: 'JSON register declared UTF-16', request: ajaxPost('/register', '{"email":"utf16@example.com"}', 'visitor', 'application/json; charset=utf-16'), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'JSON login declared KOI8-R', request: ajaxPost('/login', '{"email":"koi@example.com"}', 'visitor', 'application/json; charset=koi8-r'), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'register form declared in a made-up charset', request: (ctx) => ({ ...formPost('/register', validRegister('madeup@example.com'))(ctx), headers: [['Content-Type', `${FORM}; charset=made-up`], ...cookieHeader(ctx.visitor)] }), status: 415 },
  { name: 'register form gzip-encoded with garbage', request: (ctx) => ({ ...formPost('/register', validRegister('gzip@example.com'))(ctx), headers: [['Content-Type', FORM], ['Content-Encoding', 'gzip'], ...cookieHeader(ctx.visitor)] }), status: 400 },
  { name: 'register form in an unknown content encoding', request: (ctx) => ({ ...formPost('/register', validRegister('compress@example.com'))(ctx), headers: [['Content-Type', FORM], ['Content-Encoding', 'compress'], ...cookieHeader(ctx.visitor)] }), status: 415 },
  { name: 'login as multipart form data', request: ajaxPost('/login', '--b\r\nContent-Disposition: form-data; name="email"\r\n\r\nx@example.com\r\n--b--', 'visitor', 'multipart/form-data; boundary=b'), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'register as XML', request: ajaxPost('/register', '<user><email>xml@example.com</email></user>', 'visitor', 'application/xml'), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'register JSON sent as text/plain', request: ajaxPost('/register', JSON.stringify({ email: 'plain@example.com', name: 'N', password: TEST_PASSWORD }), 'visitor', 'text/plain'), status: 400, code: 'VALIDATION_FAILED' },
];
// The ISO-8859-1 row needs its charset on the Content-Type.
const latin = encodings.find((c) => c.name === 'register form declared ISO-8859-1')!;
latin.request = (ctx) => ({ ...formPost('/register', validRegister('latin@example.com'))(ctx), headers: [['Content-Type', `${FORM}; charset=iso-8859-1`], ...cookieHeader(ctx.visitor)] });

const hookRows: HostileCase[] = [
  { name: 'hook without a signature', request: hook('{"userId":"1"}', { signature: '' }), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook with an empty signature', request: (ctx) => ({ ...hook('{"userId":"1"}')(ctx), headers: [['Content-Type', JSON_TYPE], ['X-Hook-Signature', ' ']] }), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook with garbage for a signature', request: hook('{"userId":"1"}', { signature: 'garbage' }), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook with t= and v1= empty', request: hook('{"userId":"1"}', { signature: 't=,v1=' }), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook with a non-numeric timestamp', request: hook('{"userId":"1"}', { signature: `t=now,v1=${'a'.repeat(64)}` }), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook with a negative timestamp', request: hook('{"userId":"1"}', { signature: `t=-1,v1=${'a'.repeat(64)}` }), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook with a 13-digit timestamp', request: hook('{"userId":"1"}', { signature: `t=1234567890123,v1=${'a'.repeat(64)}` }), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook with a short v1', request: (ctx) => hook('{"userId":"1"}', { signature: `t=${ctx.nowSeconds()},v1=${'a'.repeat(63)}` })(ctx), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook with a non-hex v1', request: (ctx) => hook('{"userId":"1"}', { signature: `t=${ctx.nowSeconds()},v1=${'g'.repeat(64)}` })(ctx), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook with v1 of zeros', request: (ctx) => hook('{"userId":"1"}', { signature: `t=${ctx.nowSeconds()},v1=${'0'.repeat(64)}` })(ctx), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook with a 300-character signature header', request: (ctx) => hook('{"userId":"1"}', { signature: `t=${ctx.nowSeconds()},v1=${'a'.repeat(64)},${'x'.repeat(220)}` })(ctx), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook with a v0 signature only', request: (ctx) => hook('{"userId":"1"}', { signature: signHook(TEST_HOOK_SECRET, ctx.nowSeconds(), '{"userId":"1"}').replace('v1=', 'v0=') })(ctx), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook signed with another secret', request: (ctx) => hook(`{"userId":"${ctx.reader.userId}"}`, { secret: 'not-the-hook-secret-not-the-hook-secret' })(ctx), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook signed with the session secret', request: (ctx) => hook(`{"userId":"${ctx.reader.userId}"}`, { secret: TEST_SESSION_SECRET })(ctx), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook signed over another user', request: (ctx) => hook(`{"userId":"${ctx.reader.userId}"}`, { signedBody: '{"userId":"somebody-else"}' })(ctx), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook signed over the body without its last byte', request: (ctx) => hook(`{"userId":"${ctx.reader.userId}"} `, { signedBody: `{"userId":"${ctx.reader.userId}"}` })(ctx), status: 401, code: 'HOOK_SIGNATURE_INVALID' },
  { name: 'hook signed six minutes ago', request: (ctx) => hook(`{"userId":"${ctx.reader.userId}"}`, { skewSeconds: -360 })(ctx), status: 401, code: 'HOOK_SIGNATURE_STALE' },
  { name: 'hook signed six minutes ahead', request: (ctx) => hook(`{"userId":"${ctx.reader.userId}"}`, { skewSeconds: 360 })(ctx), status: 401, code: 'HOOK_SIGNATURE_STALE' },
  { name: 'hook signed at the epoch', request: (ctx) => hook(`{"userId":"${ctx.reader.userId}"}`, { skewSeconds: -ctx.nowSeconds() })(ctx), status: 401, code: 'HOOK_SIGNATURE_STALE' },
  { name: 'hook, signed, as text/plain', request: (ctx) => hook(`{"userId":"${ctx.reader.userId}"}`, { contentType: 'text/plain' })(ctx), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'hook, signed, as a form', request: (ctx) => hook(`userId=${ctx.reader.userId}`, { contentType: FORM })(ctx), status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  { name: 'hook, signed, with bad JSON', request: hook('{"userId":'), status: 400, code: 'MALFORMED_BODY' },
  { name: 'hook, signed, with an empty body', request: hook(''), status: 400, code: 'MALFORMED_BODY' },
  { name: 'hook, signed, with a JSON array', request: (ctx) => hook(`["${ctx.reader.userId}"]`)(ctx), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'hook, signed, with a number for the user id', request: (ctx) => hook(`{"userId":${ctx.reader.userId}}`)(ctx), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'hook, signed, with an empty user id', request: hook('{"userId":""}'), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'hook, signed, with a blank user id', request: hook('{"userId":"   "}'), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'hook, signed, with a 65-character user id', request: hook(`{"userId":"${'1'.repeat(65)}"}`), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'hook, signed, with an extra field', request: (ctx) => hook(`{"userId":"${ctx.reader.userId}","all":true}`)(ctx), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'hook, signed, with userId given as an object', request: hook('{"userId":{"$ne":null}}'), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'hook, signed, with a __proto__ body', request: hook('{"__proto__":{"userId":"1"}}'), status: 400, code: 'VALIDATION_FAILED' },
  { name: 'hook, signed, with non-UTF-8 bytes', request: (ctx) => hook(Buffer.concat([Buffer.from(`{"userId":"${ctx.reader.userId}`), Buffer.from([0xff]), Buffer.from('"}')]))(ctx), status: 400, code: 'MALFORMED_BODY' },
  { name: 'hook with a body over 4 KiB', request: hook(`{"userId":"1","pad":"${'x'.repeat(5000)}"}`), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  {
    name: 'hook replayed',
    prepare: async (ctx, port) => {
      const first = await sendRaw(port, replayed(ctx));
      if (first.status !== 200) throw new Error(`the first use of the hook answered ${first.status}`);
    },
    request: (ctx) => replayed(ctx),
    status: 401,
    code: 'HOOK_REPLAYED',
  },
];
/** One signed hook per run: prepared once, then sent again as the replay. */
let replayRequest: RawRequest | undefined;
function replayed(ctx: Context): RawRequest {
  replayRequest ??= hook('{"userId":"no-such-user"}')(ctx);
  return replayRequest;
}

const headerRows: HostileCase[] = [
  { name: 'no Host header', request: () => ({ method: 'GET', target: '/', headers: [], omitHost: true }), status: 400, byServer: true },
  { name: 'a header name with a space', request: plain('GET', '/', 'nobody', [['Bad Header', 'x']]), status: 400, byServer: true },
  { name: 'a header value with a NUL byte', request: () => ({ method: 'GET', target: '/', headers: [['X-Test', Buffer.from([0x61, 0x00, 0x62])]] }), status: 400, byServer: true },
  { name: 'both Content-Length and Transfer-Encoding (smuggling)', request: (ctx) => ({ ...formPost('/login', validLogin)(ctx), headers: [['Content-Type', FORM], ['Content-Length', '4'], ['Transfer-Encoding', 'chunked'], ...cookieHeader(ctx.visitor)] }), status: 400, byServer: true },
  { name: 'a Content-Length that is not a number', request: () => ({ method: 'POST', target: '/login', headers: [['Content-Length', 'abc']], body: 'x' }), status: 400, byServer: true },
  { name: 'two different Content-Lengths', request: () => ({ method: 'POST', target: '/login', headers: [['Content-Length', '1'], ['Content-Length', '2']], body: 'xx' }), status: 400, byServer: true },
  { name: 'a malformed chunk', request: () => ({ method: 'POST', target: '/login', headers: [['Content-Type', FORM], ['Transfer-Encoding', 'chunked']], body: 'zz\r\nxx\r\n0\r\n\r\n' }), status: 400, byServer: true },
  { name: 'a request line of garbage', request: () => ({ method: 'GARBAGE', target: '', headers: [] }), status: 400, byServer: true },
  { name: 'an unknown method', request: plain('BREW', '/'), status: 400, byServer: true },
  { name: 'a 20 KiB request target', request: plain('GET', `/?q=${'a'.repeat(20_000)}`), status: 431, byServer: true },
  { name: 'a 20 KiB cookie', request: plain('GET', '/', 'nobody', [['Cookie', `vfb.sid=${'a'.repeat(20_000)}`]]), status: 431, byServer: true },
  { name: 'an Expect the server cannot meet', request: plain('POST', '/login', 'nobody', [['Expect', 'teapot']]), status: 417, byServer: true },
  { name: 'a body declared longer than it is', request: (ctx) => ({ ...formPost('/login', validLogin)(ctx), headers: [['Content-Type', FORM], ['Content-Length', '500'], ...cookieHeader(ctx.visitor)], hangUp: true }), status: 400, byServer: true },
  { name: 'a cookie of garbage on the account page form', request: (ctx) => ({ method: 'POST', target: '/account', headers: [['Content-Type', FORM], ['Cookie', 'vfb.sid=%%%garbage%%%']], body: `_csrf=${enc(ctx.reader.csrf)}&name=X&email=x%40example.com` }), status: 403 },
  { name: 'a cookie with raw non-UTF-8 bytes', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Content-Type', FORM], ['Cookie', Buffer.concat([Buffer.from('vfb.sid='), Buffer.from([0xff, 0xfe])])]], body: `_csrf=${enc(ctx.reader.csrf)}` }), status: 403 },
  { name: 'a JSON 404 for an unknown API path', request: plain('GET', '/api/users', 'reader', [['Accept', JSON_TYPE]]), status: 404, code: 'NOT_FOUND' },
  { name: 'an X-Forwarded-Proto and -For that are not trusted', request: plain('POST', '/logout', 'reader', [['X-Forwarded-For', '10.0.0.1'], ['X-Forwarded-Proto', 'https']]), status: 403 },
  { name: 'an Origin of another site on the logout', request: (ctx) => ({ method: 'POST', target: '/logout', headers: [['Origin', 'https://evil.example'], ['Content-Type', FORM], ...cookieHeader(ctx.reader)] }), status: 403 },
  { name: 'an X-HTTP-Method-Override to DELETE', request: plain('GET', '/logout', 'reader', [['X-HTTP-Method-Override', 'POST']]), status: 405 },
  { name: 'a huge Accept header', request: plain('GET', '/no-such-page', 'nobody', [['Accept', `${'text/x-'.repeat(1000)}html`]]), status: 404 },
];

const pathRows: HostileCase[] = [
  { name: 'an article slug with a broken percent escape', request: plain('GET', '/articles/%E0%A4%A'), status: 400 },
  { name: 'an article slug of %FF', request: plain('GET', '/articles/%FF'), status: 400 },
  { name: 'an article slug with raw non-UTF-8 bytes', request: plain('GET', Buffer.concat([Buffer.from('/articles/'), Buffer.from([0xff, 0xfe])])), status: 400, byServer: true },
  { name: 'an article slug climbing directories', request: plain('GET', '/articles/..%2F..%2F..%2Fetc%2Fpasswd'), status: 404 },
  { name: 'an article slug with markup', request: plain('GET', `/articles/${enc(XSS)}`), status: 404 },
  { name: 'an article slug of 5,000 characters', request: plain('GET', `/articles/${'a'.repeat(5000)}`), status: 404 },
  { name: 'an article slug with a NUL byte', request: plain('GET', '/articles/harbour%00'), status: 404 },
  { name: 'markup in an unknown path', request: plain('GET', `/${enc(XSS)}`), status: 404 },
  { name: 'a protocol-relative path', request: plain('GET', '//evil.example/'), status: 404 },
  { name: 'a backslash path', request: plain('GET', '/\\evil.example'), status: 404 },
  { name: 'the source of the server', request: plain('GET', '/src/server.ts'), status: 404 },
  { name: 'the package manifest', request: plain('GET', '/package.json'), status: 404 },
  { name: 'the environment file', request: plain('GET', '/.env'), status: 404 },
  { name: 'the database file', request: plain('GET', '/data/site.db'), status: 404 },
  { name: 'the session secret file', request: plain('GET', '/data/session-secret'), status: 404 },
  { name: 'the git config', request: plain('GET', '/.git/config'), status: 404 },
  { name: 'a dependency', request: plain('GET', '/node_modules/express/package.json'), status: 404 },
  { name: 'a static file out of its folder with ..', request: plain('GET', '/public/../package.json'), status: 404 },
  { name: 'a static file out of its folder with %2e%2e', request: plain('GET', '/public/%2e%2e/package.json'), status: 404 },
  { name: 'a static file out of its folder with %2f', request: plain('GET', '/public/..%2fpackage.json'), status: 404 },
  { name: 'a static file with a NUL byte', request: plain('GET', '/public/site.css%00.js'), status: 404 },
  { name: 'a static file that is not there', request: plain('GET', '/public/nope.js'), status: 404 },
  { name: 'the static folder itself', request: plain('GET', '/public/'), status: 404 },
  { name: 'a POST to a static file', request: plain('POST', '/public/site.js'), status: 405 },
  { name: 'the emulator’s admin path on the site', request: plain('POST', '/_emulator/faults'), status: 404 },
  { name: 'a logout with a token in the path', request: plain('POST', '/logout/some-token', 'reader'), status: 404 },
  { name: 'a query string on the hook carrying the user', request: (ctx) => ({ ...hook('')(ctx), target: `/hooks/logout?userId=${ctx.reader.userId}` }), status: 400, code: 'MALFORMED_BODY' },
  { name: 'a query string carrying a session id', request: (ctx) => ({ method: 'POST', target: '/logout?vfb.sid=s%3Asome-session.c2ln', headers: [['Content-Type', FORM]], body: `_csrf=${enc(ctx.reader.csrf)}` }), status: 403 },
];

const CASES: HostileCase[] = [...wrongMethods, ...csrf, ...formCases, ...jsonCases, ...encodings, ...hookRows, ...headerRows, ...pathRows];

// --- the checks ----------------------------------------------------------------------------

const STACK_TRACE = /\bat \S+ \(|\bat .*:\d+:\d+|node_modules\/|\/src\/|\b(Type|Reference|Syntax|Range)Error\b|Error: /;

let t: TestSite;
let server: http.Server;
let port: number;
let ctx: Context;
/** Never in an answer; in the log, neither is the reader's session cookie. */
const SECRETS = [TEST_SESSION_SECRET, TEST_HOOK_SECRET, TEST_API_KEY, TEST_PASSWORD];

async function stateOf() {
  const db = t.site.database.db;
  const withoutCookie = (sess: string) => {
    const { cookie: _cookie, ...rest } = JSON.parse(sess) as Record<string, unknown>;
    return rest;
  };
  return {
    users: await db.selectFrom('users').selectAll().orderBy('id').execute(),
    sessions: (await db.selectFrom('sessions').select(['sid', 'sess']).orderBy('sid').execute()).map((row) => ({ sid: row.sid, sess: withoutCookie(row.sess) })),
    bridge: await db.selectFrom('bridge_sessions').select(['host_sid', 'host_user_id', 'platform_user_id', 'platform_session']).orderBy('host_sid').execute(),
    pendingLogouts: await db.selectFrom('pending_logouts').select('platform_session').orderBy('platform_session').execute(),
    hookReplays: await db.selectFrom('hook_replays').select('signature').orderBy('signature').execute(),
    platform: t.emulator.stats(),
  };
}

function expectPlainAnswer(row: HostileCase, res: RawResponse): void {
  expect(res.status).toBe(row.status);
  const everything = [...res.headers.values(), res.body].join('\n');
  for (const secret of SECRETS) expect(everything).not.toContain(secret);
  expect(res.body).not.toMatch(STACK_TRACE);
  expect(res.body).not.toContain(XSS);
  expect(res.headers.has('x-powered-by')).toBe(false);
  if (row.byServer) return;

  if (res.headers.get('content-type')?.startsWith('application/json')) {
    const body = JSON.parse(res.body) as { error?: { code?: string; message?: string } };
    if (row.code) expect(body.error?.code).toBe(row.code);
    expect(body.error?.message).toMatch(/^[A-Z].{9,}\.$/);
  } else {
    expect(row.code).toBeUndefined();
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    // The page says what is wrong in a sentence of its own.
    expect(res.body).toMatch(/<p class="form-error" role="alert">[A-Z][^<]{9,}<\/p>/);
  }
  if (res.status === 405) expect(res.headers.get('allow')).toMatch(/^[A-Z, ]+$/);
}

beforeAll(async () => {
  const many = 1_000_000;
  t = await startTestSite({
    overrides: { rateLimits: { loginPerAccount: many, loginPerIp: many, registerPerIp: many, accountChangesPerUser: many, accountChangesPerIp: many } },
  });
  server = http.createServer(t.site.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;

  const readerAgent = t.agent();
  const { res, email } = await register(readerAgent, { name: 'Rita Reader' });
  const session = (await readerAgent.get('/api/session').expect(200)).body as { user: { id: number }; csrfToken: string };
  const otherAgent = t.agent();
  const other = await register(otherAgent, { name: 'Otto Other' });
  const visitorAgent = t.agent();
  const visitorPage = await visitorAgent.get('/register');
  const visitorCsrf = csrfFrom(visitorPage.text);
  const visitorCookie = (visitorPage.headers['set-cookie'] as unknown as string[]).map((c) => /^vfb\.csrf=([^;]+)/.exec(c)?.[1]).find(Boolean);

  ctx = {
    reader: { cookie: sessionCookie(res)!, csrf: session.csrfToken, userId: String(session.user.id), email },
    visitor: { cookie: visitorCookie ?? '', cookieName: 'vfb.csrf', csrf: visitorCsrf },
    otherEmail: other.email,
    nowSeconds: () => Math.floor(t.clock.now() / 1000),
  };
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

describe('hostile and malformed input', () => {
  it('covers at least 200 cases, each with its own name', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(200);
    expect(new Set(CASES.map((row) => row.name)).size).toBe(CASES.length);
  });

  it.each(CASES.map((row) => [row.name, row] as const))('%s', async (_name, row) => {
    await row.prepare?.(ctx, port);
    const before = await stateOf();
    const res = await sendRaw(port, row.request(ctx));
    expectPlainAnswer(row, res);
    expect(await stateOf()).toEqual(before);
  });

  it('left the reader logged in with the same platform session, and the other accounts as they were', async () => {
    const res = await sendRaw(port, { method: 'GET', target: '/api/session', headers: [['Cookie', `vfb.sid=${ctx.reader.cookie}`]] });
    const view = JSON.parse(res.body) as { user: { name: string; email: string } | null; platform: { sid: string } | null };
    expect(view.user).toMatchObject({ name: 'Rita Reader', email: ctx.reader.email });
    expect(t.emulator.sessionInfo(view.platform!.sid)?.alive).toBe(true);
    const emails = (await t.site.database.db.selectFrom('users').select('email').execute()).map((row) => row.email);
    expect(emails.sort()).toEqual([ctx.reader.email, ctx.otherEmail].sort());
  });

  it('logged no secret, password or session cookie while refusing all of it', () => {
    const log = t.logLines.join('');
    expect(log.length).toBeGreaterThan(0);
    const sessionId = decodeURIComponent(ctx.reader.cookie).replace(/^s:/, '').replace(/\.[^.]*$/, '');
    for (const secret of [...SECRETS, ctx.reader.cookie, sessionId]) expect(log).not.toContain(secret);
    expect(log).not.toMatch(/\bat \S+ \(.*:\d+:\d+\)/);
  });
});
