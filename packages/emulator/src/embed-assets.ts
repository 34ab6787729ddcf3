/**
 * The browser side of the emulator: the script a host page includes as
 * `<script id="viafoura-platform" src=".../embed.js" data-uid data-sid>`, and its stylesheet.
 *
 * Kept as strings so `tsc` output carries them (it copies no asset files) and so coverage
 * instrumentation never rewrites code that runs in a browser. The script has to live under a
 * strict CSP on the host page: no eval, no inline style, DOM built with createElement and
 * textContent only (never innerHTML), the stylesheet added as a <link>.
 */

export const EMBED_JS = String.raw`(function () {
  'use strict';
  var LOADED = '__vfEmulatorEmbedLoaded';
  if (window[LOADED]) return;
  window[LOADED] = true;

  var script = document.getElementById('viafoura-platform') || document.currentScript;
  if (!script || !script.src) {
    report(new Error('<script id="viafoura-platform" src="..."> not found'));
    return;
  }
  var scriptSrc = script.src;
  var sid = script.getAttribute('data-sid') || null;
  var uid = script.getAttribute('data-uid') || null;
  var page = window.location.pathname;

  var user = null;
  var comments = [];
  var subscribers = {};
  var prepublishers = [];

  function report(error) {
    if (window.console && console.error) console.error('viafoura embed:', error);
  }

  function endpoint(path) {
    return new URL(path, scriptSrc).toString();
  }

  function request(method, path, form) {
    var init = { method: method, mode: 'cors', credentials: 'omit', cache: 'no-store' };
    if (form) {
      // A form body keeps the request "simple": no CORS preflight.
      init.headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
      init.body = new URLSearchParams(form).toString();
    }
    return fetch(endpoint(path), init).then(function (response) {
      return response.json().then(
        function (body) { return { status: response.status, body: body }; },
        function () { return { status: response.status, body: null }; }
      );
    });
  }

  function eventKey(channel, event) {
    return String(channel) + ' ' + String(event);
  }

  function removeFrom(list, fn) {
    return function () {
      var index = list.indexOf(fn);
      if (index >= 0) list.splice(index, 1);
    };
  }

  function subscribe(channel, event, fn) {
    if (typeof fn !== 'function') throw new TypeError('vf.$subscribe(channel, event, fn) needs a function');
    var key = eventKey(channel, event);
    var list = subscribers[key] || (subscribers[key] = []);
    list.push(fn);
    return removeFrom(list, fn);
  }

  function prepublish(fn) {
    if (typeof fn !== 'function') throw new TypeError('vf.$prepublish(fn) needs a function');
    prepublishers.push(fn);
    return removeFrom(prepublishers, fn);
  }

  // Every prepublish hook sees the event first; the first one returning false cancels it.
  function publish(channel, event) {
    var args = Array.prototype.slice.call(arguments);
    var hooks = prepublishers.slice();
    for (var i = 0; i < hooks.length; i++) {
      var verdict;
      try { verdict = hooks[i].apply(null, args); } catch (error) { report(error); continue; }
      if (verdict === false) return false;
    }
    var listeners = (subscribers[eventKey(channel, event)] || []).slice();
    for (var j = 0; j < listeners.length; j++) {
      try { listeners[j].apply(null, args.slice(2)); } catch (error) { report(error); }
    }
    return true;
  }

  function currentUser() {
    return user ? { id: user.id, name: user.name } : null;
  }

  function requireLogin() {
    if (publish('authentication', 'required') === false) return;
    var here = window.location.pathname + window.location.search;
    window.location.assign('/login?returnTo=' + encodeURIComponent(here));
  }

  function forgetSession() {
    user = null;
    sid = null;
  }

  // The server-side logout is the one that counts; the embed forgets its session even when the
  // call fails, so the promise always resolves.
  function logout() {
    var ending = sid;
    var call = ending
      ? request('POST', 'embed/v1/logout', { sid: ending }).then(function (answer) {
          if (answer.status !== 200) report(new Error('logout answered ' + answer.status));
        }, report)
      : Promise.resolve();
    return call.then(function () {
      forgetSession();
      publish('authentication', 'logout');
      render();
    });
  }

  function postComment(textarea, button) {
    var text = textarea.value.trim();
    if (!user || !sid) { requireLogin(); return; }
    if (!text) return;
    button.disabled = true;
    request('POST', 'embed/v1/comments', { sid: sid, page: page, text: text }).then(function (answer) {
      if (answer.status === 200 && answer.body && answer.body.comment) {
        comments.push(answer.body.comment);
        render();
      } else if (answer.status === 401) {
        forgetSession();
        render();
        requireLogin();
      } else {
        button.disabled = false;
        report(new Error('posting a comment answered ' + answer.status));
      }
    }, function (error) {
      button.disabled = false;
      report(error);
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // A comment's time as the reader's browser writes dates, with the exact instant in datetime.
  function timeOf(createdAt) {
    var when = new Date(Number(createdAt));
    if (isNaN(when.getTime())) return null;
    var node = element('time', 'vf-comment-time', when.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }));
    node.dateTime = when.toISOString();
    return node;
  }

  function commentItem(comment) {
    var item = element('li', 'vf-comment');
    var byline = element('p', 'vf-comment-byline');
    byline.appendChild(element('strong', 'vf-comment-author', String(comment.name)));
    var time = timeOf(comment.createdAt);
    if (time) {
      byline.appendChild(document.createTextNode(' '));
      byline.appendChild(time);
    }
    item.appendChild(byline);
    item.appendChild(element('p', 'vf-comment-text', String(comment.text)));
    return item;
  }

  function renderInto(container, index) {
    while (container.firstChild) container.removeChild(container.firstChild);
    var widget = element('div', 'vf-widget');
    if (user) {
      var status = element('p', 'vf-status', 'Commenting as ');
      status.appendChild(element('strong', 'vf-user-name', user.name));
      widget.appendChild(status);
      var form = element('form', 'vf-comment-box');
      // A visible label, tied to its box by id: one id per widget, as a page may hold several.
      var label = element('label', 'vf-label', 'Your comment');
      var textarea = element('textarea', 'vf-textarea');
      textarea.id = 'vf-comment-text-' + index;
      label.htmlFor = textarea.id;
      textarea.name = 'text';
      textarea.maxLength = 2000;
      var button = element('button', 'vf-post', 'Post comment');
      button.type = 'submit';
      form.appendChild(label);
      form.appendChild(textarea);
      form.appendChild(button);
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        postComment(textarea, button);
      });
      widget.appendChild(form);
    } else {
      widget.appendChild(element('p', 'vf-status', 'Join the conversation.'));
      var login = element('button', 'vf-login', 'Log in to comment');
      login.type = 'button';
      login.addEventListener('click', requireLogin);
      widget.appendChild(login);
    }
    var list = element('ul', 'vf-comments');
    for (var i = 0; i < comments.length; i++) list.appendChild(commentItem(comments[i]));
    widget.appendChild(list);
    container.appendChild(widget);
  }

  function render() {
    var containers = document.querySelectorAll('.viafoura');
    for (var i = 0; i < containers.length; i++) renderInto(containers[i], i);
  }

  function addStylesheet() {
    if (document.getElementById('vf-embed-css')) return;
    var link = document.createElement('link');
    link.id = 'vf-embed-css';
    link.rel = 'stylesheet';
    link.href = endpoint('embed.css');
    (document.head || document.documentElement).appendChild(link);
  }

  function whenDomReady(fn) {
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', fn);
    else fn();
  }

  function run(fn) {
    if (typeof fn !== 'function') return;
    try { fn(); } catch (error) { report(error); }
  }

  // Functions queued before the load run now, in order; from now on push runs at once.
  function drainQueue() {
    var queued = Array.isArray(window.vfQ) ? window.vfQ : [];
    window.vfQ = {
      push: function () {
        for (var i = 0; i < arguments.length; i++) run(arguments[i]);
        return 0;
      }
    };
    for (var i = 0; i < queued.length; i++) run(queued[i]);
  }

  function exposeApi() {
    window.vf = {
      session: { logout: logout },
      context: { get: function (name) { return name === 'user' ? currentUser() : undefined; } },
      $subscribe: subscribe,
      $prepublish: prepublish
    };
    // Older platform scripts offered window.viafoura.session.logout().
    window.viafoura = window.viafoura || {};
    window.viafoura.session = { logout: logout };
  }

  var sessionCheck = sid
    ? request('GET', 'embed/v1/session?sid=' + encodeURIComponent(sid)).then(function (answer) {
        return answer.status === 200 && answer.body && answer.body.user ? answer.body.user : null;
      }, function (error) { report(error); return null; })
    : Promise.resolve(null);
  var commentsLoad = request('GET', 'embed/v1/comments?page=' + encodeURIComponent(page)).then(function (answer) {
    return answer.status === 200 && answer.body && Array.isArray(answer.body.comments) ? answer.body.comments : [];
  }, function (error) { report(error); return []; });

  addStylesheet();
  Promise.all([sessionCheck, commentsLoad]).then(function (results) {
    whenDomReady(function () {
      var found = results[0];
      // A tag whose data-uid does not belong to the session is treated as anonymous.
      if (found && (!uid || String(found.id) === uid)) user = { id: found.id, name: String(found.name) };
      else forgetSession();
      comments = results[1];
      render();
      exposeApi();
      drainQueue();
      if (user) publish('authentication', 'login', currentUser());
    });
  });
})();
`;

export const EMBED_CSS = `.vf-widget {
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  border-top: 1px solid #d0d4da;
  margin-top: 2rem;
  padding-top: 1rem;
}
.vf-status { margin: 0 0 0.75rem; color: #3a3f47; overflow-wrap: anywhere; }
.vf-comment-box { display: flex; flex-direction: column; gap: 0.5rem; margin-bottom: 1rem; }
.vf-textarea { min-height: 5rem; padding: 0.5rem; font: inherit; border: 1px solid #b8bec7; border-radius: 4px; }
.vf-post, .vf-login {
  align-self: flex-start;
  padding: 0.45rem 1rem;
  font: inherit;
  color: #ffffff;
  background: #1f5fbf;
  border: 0;
  border-radius: 4px;
  cursor: pointer;
}
.vf-post[disabled] { opacity: 0.6; cursor: default; }
.vf-comments { list-style: none; margin: 1rem 0 0; padding: 0; }
.vf-comment { padding: 0.5rem 0; border-bottom: 1px solid #eceef1; }
.vf-label { font-weight: 600; }
.vf-comment-byline { margin: 0; }
.vf-comment-time { margin-left: 0.5rem; color: #5a6170; font-size: 0.875em; }
.vf-comment-text { margin: 0.25rem 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
`;
