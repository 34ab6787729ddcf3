// The strength hint under a new-password field (register, change password). It scores with the
// same library and lists as the server (src/auth/password-policy.ts), so the hint and the verdict
// agree; the server decides. Loaded as a file after the library's two scripts: the CSP allows no
// inline script.
(function () {
  'use strict';

  var MIN_CHARACTERS = 12;
  var MIN_SCORE = 3;
  var SCORED_CHARACTERS = 64;
  var WARNINGS = {
    straightRow: 'it is a straight row of keys',
    keyPattern: 'it is a short keyboard pattern',
    simpleRepeat: 'it repeats one character',
    extendedRepeat: 'it repeats a short pattern',
    sequences: 'it is a common sequence like abc or 1234',
    recentYears: 'it is built on a recent year',
    dates: 'it is built on a date',
    topTen: 'it is one of the ten most used passwords',
    topHundred: 'it is one of the hundred most used passwords',
    common: 'it is on lists of commonly used and breached passwords',
    similarToCommon: 'it is close to a commonly used password',
    wordByItself: 'a single word is easy to guess',
    namesByThemselves: 'names on their own are easy to guess',
    commonNames: 'common names are easy to guess',
    userInputs: 'it contains your name or email address',
    pwned: 'it has appeared in a data breach'
  };

  var lib = window.zxcvbnts;
  if (!lib || !lib.core || !lib['language-common']) return;
  var common = lib['language-common'];
  var zxcvbn = null;

  function estimator() {
    zxcvbn = zxcvbn || new lib.core.ZxcvbnFactory({ dictionary: common.dictionary, graphs: common.adjacencyGraphs, useLevenshteinDistance: false });
    return zxcvbn;
  }

  function userInputsOf(form, field) {
    var inputs = (field.getAttribute('data-user-inputs') || '').split('\n');
    form.querySelectorAll('input[name="email"], input[name="name"]').forEach(function (el) { inputs.push(el.value); });
    var parts = [];
    inputs.forEach(function (text) {
      parts.push(text, text.split('@')[0]);
      text.split(/[@.\s_+-]+/).forEach(function (p) { parts.push(p); });
    });
    return parts.filter(function (p) { return p.length >= 3; });
  }

  function verdict(password, inputs) {
    var length = Array.from(password).length;
    if (length === 0) return { level: 'empty', text: 'At least ' + MIN_CHARACTERS + ' characters; a few unrelated words make a good password.' };
    if (length < MIN_CHARACTERS) return { level: 'weak', text: 'Too short: ' + length + ' of at least ' + MIN_CHARACTERS + ' characters.' };
    var result = estimator().check(password.slice(0, SCORED_CHARACTERS), inputs);
    var fromInputs = result.sequence.reduce(function (sum, m) { return sum + (m.dictionaryName === 'userInputs' ? m.token.length : 0); }, 0);
    if (fromInputs * 2 >= Math.min(length, SCORED_CHARACTERS)) return { level: 'weak', text: 'Too easy to guess: ' + WARNINGS.userInputs + '.' };
    if (result.score < MIN_SCORE) {
      var why = WARNINGS[result.feedback.warning] || 'it would be guessed too quickly';
      return { level: 'weak', text: 'Too easy to guess: ' + why + '.' };
    }
    return { level: result.score === 4 ? 'strong' : 'good', text: result.score === 4 ? 'Strong password.' : 'Good enough; a longer one is stronger.' };
  }

  document.querySelectorAll('input[data-password-strength]').forEach(function (field) {
    var form = field.form;
    var hint = document.getElementById(field.getAttribute('data-password-strength'));
    if (!form || !hint) return;
    function update() {
      var v = verdict(field.value, userInputsOf(form, field));
      hint.textContent = v.text;
      hint.setAttribute('data-strength', v.level);
    }
    field.addEventListener('input', update);
    form.addEventListener('input', function (event) { if (event.target !== field && field.value) update(); });
  });
})();
