/**
 * The emulator's credentials when none are given: demo values printed at start-up and in the
 * README, not secrets. They only ever open the bundled emulator; a site with VF_SITE_ID and
 * VF_API_KEY set talks to the real platform and never uses them.
 */
export const DEMO_SITE_ID = 'demo-site';
export const DEMO_API_KEY = 'demo-key';
/** Where `npm run emulator` listens, and where `npm start`'s emulator listens when that port is free. */
export const DEMO_EMULATOR_PORT = 4010;

/**
 * The three calls of docs/platform-protocol.md#try-it against an emulator at `url`, ready to
 * paste: the first prints the token the other two need.
 */
export function tryItLines(url: string, siteId: string, apiKey: string): string[] {
  const quote = (text: string) => (/^[\w.:/@+=-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`);
  return [
    `curl --user ${quote(`${siteId}:${apiKey}`)} -d grant_type=client_credentials -d scope=accounts ${url}/oauth2/token`,
    `curl -H "Authorization: Bearer ACCESS_TOKEN" -d id=42 -d "name=John Doe" -d "email=john@example.com" ${url}/rest/v1/accounts/login`,
    `curl -H "Authorization: Bearer ACCESS_TOKEN" -d "session=SESSION" ${url}/rest/v1/accounts/logout`,
  ];
}
