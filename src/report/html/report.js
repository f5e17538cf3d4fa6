// patscan HTML report: sorting, filtering and expanding the secrets table.
// The rows are rendered by patscan; this script only hides, reorders and
// expands them, and never turns data into markup (no innerHTML). The URL
// fragment holds the view (#filter=github&sort=-occurrences&open=all), so
// a filtered view can be shared as a link.
(function () {
  'use strict';
  var island = document.getElementById('patscan-data');
  var table = document.getElementById('secrets-table');
  var controls = document.getElementById('controls');
  if (!island || !controls) { return; }
  var data = JSON.parse(island.textContent);
  var input = document.getElementById('filter');
  var shown = document.getElementById('shown');
  var noMatch = document.getElementById('no-match');
  controls.hidden = false;
  if (!table) { input.disabled = true; return; }

  var CONFIDENCE = { high: 3, medium: 2, low: 1 };
  var STATUS = { active: 4, unknown: 3, inactive: 2 };
  var SEVERITY = { critical: 4, high: 3, medium: 2, low: 1 };
  function lower(text) { return String(text == null ? '' : text).toLowerCase(); }
  function unique(values) {
    return values.filter(function (v, i) { return v && values.indexOf(v) === i; });
  }

  var items = Array.prototype.map.call(table.querySelectorAll('tbody.secret'), function (body, position) {
    var s = data.secrets[Number(body.getAttribute('data-index'))] || {};
    var places = s.occurrences || [];
    var status = s.verification ? s.verification.status : 'not checked';
    var first = s.first_seen || null;
    var fields = {
      provider: lower(s.provider),
      rule: lower(s.rule_id + ' ' + s.rule_name),
      confidence: lower(s.confidence),
      status: lower(status),
      severity: lower(s.verification && s.verification.severity),
      author: lower(unique(places.map(function (p) { return p.author; })).join('\n')),
      path: lower(unique(places.map(function (p) { return p.path; })).join('\n')),
      commit: lower(unique(places.map(function (p) { return p.commit; })).join('\n')),
      origin: lower(unique(places.map(function (p) { return p.origin; })).join('\n')),
      secret: lower(s.secret)
    };
    var text = Object.keys(fields).map(function (k) { return fields[k]; })
      .concat(places.map(function (p) { return lower(p.snippet) + '\n' + lower(p.summary); }))
      .join('\n');
    var firstTime = first ? Date.parse(first.date) : NaN;
    return {
      body: body,
      position: position,
      fields: fields,
      text: text,
      keys: {
        provider: fields.provider,
        rule: lower(s.rule_id),
        confidence: CONFIDENCE[s.confidence] || 0,
        status: STATUS[status] || 0,
        severity: SEVERITY[s.verification && s.verification.severity] || 0,
        first_seen: isNaN(firstTime) ? Infinity : firstTime,
        author: lower(first ? first.author : ''),
        occurrences: s.occurrence_count || places.length
      }
    };
  });

  var view = { filter: '', sort: '', open: '' };

  // Every term must match: `key:value` matches that field, anything else
  // the whole secret (its fields, snippets and commit summaries).
  function matches(item, terms) {
    return terms.every(function (term) {
      var colon = term.indexOf(':');
      if (colon > 0) {
        var key = term.slice(0, colon);
        if (Object.prototype.hasOwnProperty.call(item.fields, key)) {
          return item.fields[key].indexOf(term.slice(colon + 1)) !== -1;
        }
      }
      return item.text.indexOf(term) !== -1;
    });
  }

  function applyFilter() {
    var terms = lower(view.filter).split(/\s+/).filter(Boolean);
    var count = 0;
    items.forEach(function (item) {
      var visible = matches(item, terms);
      item.body.hidden = !visible;
      if (visible) { count += 1; }
    });
    noMatch.hidden = count !== 0;
    shown.textContent = 'Showing ' + count + ' of ' + items.length +
      (items.length === 1 ? ' secret' : ' secrets');
  }

  function applySort() {
    var key = view.sort.replace(/^-/, '');
    var descending = view.sort.charAt(0) === '-';
    var ordered = items.slice();
    if (key && items.length && Object.prototype.hasOwnProperty.call(items[0].keys, key)) {
      ordered.sort(function (a, b) {
        var x = a.keys[key], y = b.keys[key];
        var order = x < y ? -1 : x > y ? 1 : 0;
        return (descending ? -order : order) || a.position - b.position;
      });
    } else {
      key = '';
    }
    ordered.forEach(function (item) { table.insertBefore(item.body, noMatch); });
    Array.prototype.forEach.call(table.querySelectorAll('th[data-sort]'), function (th) {
      var mine = th.getAttribute('data-sort') === key;
      th.setAttribute('aria-sort', mine ? (descending ? 'descending' : 'ascending') : 'none');
    });
  }

  function setOpen(item, open) {
    var toggle = item.body.querySelector('button.toggle');
    var places = item.body.querySelector('tr.places');
    toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    places.hidden = !open;
  }

  function saveView() {
    var params = [];
    ['filter', 'sort', 'open'].forEach(function (k) {
      if (view[k]) { params.push(k + '=' + encodeURIComponent(view[k])); }
    });
    try {
      history.replaceState(null, '', params.length ? '#' + params.join('&') : location.pathname + location.search);
    } catch (e) { /* some browsers refuse state changes on file: URLs */ }
  }

  function readView() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    var query = new URLSearchParams(location.search);
    view.filter = params.get('filter') || params.get('q') || query.get('filter') || query.get('q') || '';
    view.sort = params.get('sort') || query.get('sort') || '';
    view.open = params.get('open') || query.get('open') || '';
    input.value = view.filter;
    applyFilter();
    applySort();
    items.forEach(function (item) { setOpen(item, view.open === 'all'); });
  }

  input.addEventListener('input', function () {
    view.filter = input.value;
    applyFilter();
    saveView();
  });
  Array.prototype.forEach.call(table.querySelectorAll('th[data-sort] button'), function (button) {
    button.addEventListener('click', function () {
      var key = button.parentNode.getAttribute('data-sort');
      var numeric = key === 'occurrences' || key === 'confidence' || key === 'status' ||
        key === 'severity';
      if (view.sort === key) { view.sort = '-' + key; }
      else if (view.sort === '-' + key) { view.sort = key; }
      else { view.sort = numeric ? '-' + key : key; }
      applySort();
      saveView();
    });
  });
  items.forEach(function (item) {
    item.body.querySelector('button.toggle').addEventListener('click', function () {
      setOpen(item, item.body.querySelector('tr.places').hidden);
    });
  });
  document.getElementById('expand-all').addEventListener('click', function () {
    items.forEach(function (item) { setOpen(item, true); });
    view.open = 'all';
    saveView();
  });
  document.getElementById('collapse-all').addEventListener('click', function () {
    items.forEach(function (item) { setOpen(item, false); });
    view.open = '';
    saveView();
  });
  window.addEventListener('hashchange', readView);
  readView();
})();
