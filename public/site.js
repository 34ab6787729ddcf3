// The site's own browser script. It talks to the commenting embed only through the platform's
// public JavaScript API (vfQ, vf.session, vf.$prepublish), so it works the same with the real
// platform script and with the bundled emulator's. No inline script anywhere: the CSP forbids it.
(function () {
  'use strict';

  /** Runs fn once the embed has loaded (the platform's queue). */
  function whenEmbedReady(fn) {
    window.vfQ = window.vfQ || [];
    window.vfQ.push(fn);
  }

  // The path only, as the server renders it (src/app.ts): a query can carry what must not be
  // repeated into a link, such as the connect callback's authorization code.
  function loginUrl() {
    return '/login?returnTo=' + encodeURIComponent(location.pathname);
  }

  /** Tells the embed the reader has logged out; older platform scripts only had window.viafoura. */
  function logOutEmbed() {
    whenEmbedReady(function () {
      if (window.vf && window.vf.session) return window.vf.session.logout();
      if (window.viafoura && window.viafoura.session) return window.viafoura.session.logout();
    });
  }

  function showAnonymous() {
    document.querySelectorAll('[data-when="user"]').forEach(function (el) { el.hidden = true; });
    document.querySelectorAll('[data-when="anonymous"]').forEach(function (el) { el.hidden = false; });
    document.querySelectorAll('[data-login-link]').forEach(function (a) { a.setAttribute('href', loginUrl()); });
    document.body.dataset.reader = 'anonymous';
  }

  /** Says it in the page's polite live region (views/layout.eta), which screen readers announce. */
  function announce(text) {
    var region = document.querySelector('[data-announcer]');
    if (!region) return;
    var note = document.createElement('p');
    note.className = 'form-ok';
    note.textContent = text;
    region.replaceChildren(note);
  }

  /**
   * Focus goes to "Log in" rather than fall to <body>: always after the reader's own logout, and
   * after another tab's only when it sat on something now hidden (a focus moved for no reason of
   * the reader's would scroll the page away from where they are reading).
   */
  function focusLogin(always) {
    var active = document.activeElement;
    var lost = active !== null && active !== document.body && active.closest('[hidden]') !== null;
    var link = document.querySelector('[data-login-link]');
    if (link && (always || lost)) link.focus();
  }

  // "Log out" by AJAX; without JavaScript the same form posts and redirects.
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-ajax-logout')) return;
    event.preventDefault();
    var token = form.querySelector('input[name="_csrf"]');
    fetch(form.action, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRF-Token': token ? token.value : '' },
    })
      .then(function (res) { return res.ok ? res.json() : Promise.reject(new Error('logout failed')); })
      .then(function (body) {
        if (!body || body.ok !== true) throw new Error('logout failed');
        showAnonymous();
        announce('You are logged out.');
        focusLogin(true);
        logOutEmbed();
        // Logged in at the publisher's identity provider: its own logout page comes next (RP-initiated logout).
        if (typeof body.providerLogout === 'string' && /^https?:\/\//.test(body.providerLogout)) location.assign(body.providerLogout);
      })
      .catch(function () { form.submit(); });
  });

  // "Needs login": a reader who is not logged in tries to comment; the site's own login page
  // replaces the platform's, and brings the reader back to this article.
  whenEmbedReady(function () {
    if (!window.vf || typeof window.vf.$prepublish !== 'function') return;
    window.vf.$prepublish(function (channel, event) {
      if (channel === 'authentication' && event === 'required') {
        location.assign(loginUrl());
        return false;
      }
    });
  });

  // Another tab may have logged out (or a logout hook ended the session): catch up when shown again.
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState !== 'visible' || document.body.dataset.reader === 'anonymous') return;
    if (!document.querySelector('[data-when="user"]')) return;
    fetch('/api/session', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (res) { return res.json(); })
      .then(function (state) {
        if (state && state.user === null) {
          showAnonymous();
          announce('You are logged out.');
          focusLogin(false);
          logOutEmbed();
        }
      })
      .catch(function () { /* offline: nothing to update */ });
  });
})();
