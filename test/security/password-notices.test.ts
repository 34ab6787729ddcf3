import { csrfFor, register } from '../helpers/browser-flow';
import { SUBJECTS, linkIn, mailTo, waitForMail } from '../helpers/mail';
import { startTestSite, TEST_PASSWORD, type TestSite } from '../helpers/site';

const NEW_PASSWORD = 'another quite long passphrase';

let t: TestSite;
beforeAll(async () => {
  t = await startTestSite();
});
afterAll(() => t.close());

describe('ASVS 2.5.5: a changed password is told to the account’s address', () => {
  it('a change from the account page mails a notice, once, with no link and no password in it', async () => {
    const agent = t.agent();
    const { email } = await register(agent);
    expect(mailTo(t, email, SUBJECTS.passwordChanged)).toHaveLength(0);
    const _csrf = await csrfFor(agent, '/account');
    await agent.post('/account/password').type('form').send({ _csrf, currentPassword: TEST_PASSWORD, newPassword: NEW_PASSWORD }).expect(303);
    const notice = await waitForMail(t, email, SUBJECTS.passwordChanged);
    expect(notice.text).toContain('changed from your account page');
    expect(notice.text).not.toContain(NEW_PASSWORD);
    expect(notice.text).not.toMatch(/token=/);
    expect(mailTo(t, email, SUBJECTS.passwordChanged)).toHaveLength(1);
  });

  it('a reset by mailed link mails a notice too; a refused (weak) password mails none', async () => {
    const { email } = await register(t.agent());
    const asker = t.agent();
    const asked = await csrfFor(asker, '/password/forgot');
    await asker.post('/password/forgot').type('form').send({ _csrf: asked, email }).expect(200);
    const link = new URL(linkIn((await waitForMail(t, email, SUBJECTS.reset)).text, '/password/reset'));
    const form = await asker.get(link.pathname + link.search).expect(200);
    const _csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1];
    const token = link.searchParams.get('token')!;
    await asker.post('/password/reset').type('form').send({ _csrf, token, newPassword: 'password' }).expect(400);
    // Whatever was queued is sent first, so a notice queued by mistake would be seen here.
    await t.site.mail.idle();
    await t.site.mail.deliver();
    expect(mailTo(t, email, SUBJECTS.passwordChanged)).toHaveLength(0);
    await asker.post('/password/reset').type('form').send({ _csrf, token, newPassword: NEW_PASSWORD }).expect(303);
    expect((await waitForMail(t, email, SUBJECTS.passwordChanged)).text).toContain('reset from a link mailed to this address');
  });
});
