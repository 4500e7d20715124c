// The demo site's page: who the visitor is, and the widget. Its server side
// (POST /demo/token) mints the customer token, as a real site's server
// would for its signed-in customer.
(function () {
  'use strict';
  var live = new URLSearchParams(location.search).get('widget') === 'live';
  var widget = live ? 'live' : 'persistent';
  var KEY = 'nordlys.customerName';
  var form = document.getElementById('start');
  var input = document.getElementById('customer-name');
  var error = document.getElementById('start-error');
  var who = document.getElementById('who');
  var loadedAs = null;

  if (live) {
    var link = document.getElementById('mode-link');
    link.textContent = 'Persistent chat';
    link.href = '/';
    document.getElementById('mode-eyebrow').textContent = 'Live chat';
    document.getElementById('mode-lead').textContent =
      'Talk to an agent right now. Stay on the page while you chat; you can end the chat whenever you like.';
    document.title = 'Live chat · Nordlys Outdoor';
  }

  // The page asks its own server for the token; the widget calls this
  // whenever it needs one (first connect, renewal).
  window.nordlysChatToken = function (ctx) {
    return fetch('/demo/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: loadedAs, widget: ctx.widget }),
    }).then(function (r) {
      if (!r.ok) throw new Error('token: ' + r.status);
      return r.json();
    }).then(function (j) { return j.token; });
  };

  function load(name, open) {
    loadedAs = name;
    who.hidden = false;
    who.textContent = 'You are chatting as ' + name + '.';
    var s = document.createElement('script');
    s.src = '/widget.js';
    s.async = true;
    s.dataset.widget = widget;
    s.dataset.mode = live ? 'live' : 'persistent';
    s.dataset.tokenProvider = 'nordlysChatToken';
    if (open) {
      s.onload = function () {
        var el = document.querySelector('parley-chat');
        if (el) el.open();
      };
    }
    document.body.appendChild(s);
  }

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    var name = input.value.trim().replace(/\s+/g, ' ');
    if (!name) {
      error.hidden = false;
      error.textContent = 'Enter your name to start a chat.';
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    error.hidden = true;
    input.removeAttribute('aria-invalid');
    localStorage.setItem(KEY, name);
    if (loadedAs === null) {
      load(name, true);
    } else if (loadedAs !== name) {
      location.reload(); // another customer: start the widget afresh
    } else {
      var el = document.querySelector('parley-chat');
      if (el) el.open();
    }
  });

  var stored = localStorage.getItem(KEY);
  if (stored) {
    input.value = stored;
    load(stored, false);
  }
})();
