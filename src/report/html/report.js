/* cloudaudit HTML report: draws the page from the JSON document in
 * #report-data (layout: docs/html-report.md). No library and no network:
 * the page's Content-Security-Policy forbids every request. */
(function () {
  'use strict';

  var t0 = performance.now();
  var D = JSON.parse(document.getElementById('report-data').textContent);
  var parseMs = performance.now() - t0;

  // ---------------------------------------------------------------- helpers
  function $(id) { return document.getElementById(id); }
  var ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  function esc(s) { return s == null ? '' : String(s).replace(/[&<>"']/g, function (c) { return ESC[c]; }); }
  function fmt(n) { return Number(n || 0).toLocaleString('en-US'); }
  function plural(n, one, many) { return fmt(n) + ' ' + (n === 1 ? one : (many || one + 's')); }
  function when(iso) {
    if (!iso) return '';
    var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
    return m ? m[1] + ' ' + m[2] + ' UTC' : iso;
  }
  function day(iso) { return iso ? String(iso).slice(0, 10) : ''; }
  function cap(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1) : s; }
  function svgEl(tag, attrs) {
    var el = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (var k in attrs) el.setAttribute(k, attrs[k]);
    return el;
  }
  function cssVar(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  function sevColor(s) { return 'var(--sev-' + s + ')'; }
  function toast(msg) {
    var t = $('toast');
    t.textContent = msg;
    t.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.hidden = true; }, 1600);
  }
  function copyText(text) {
    function fallback() {
      var ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.style.position = 'fixed';
      ta.style.opacity = '0';
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      toast(ok ? 'Copied to the clipboard' : 'Select the text and copy it');
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { toast('Copied to the clipboard'); }, fallback);
    } else {
      fallback();
    }
  }
  function pretty(v) {
    if (v == null) return '';
    if (typeof v === 'string') return v;
    return JSON.stringify(v, null, 2);
  }
  function columnsOf(names) { var c = {}; names.forEach(function (n, i) { c[n] = i; }); return c; }

  // ------------------------------------------------------------- the data
  var SEVS = D.severities;                   // ascending: informational .. critical
  var SEV_DESC = SEVS.slice().reverse();
  var C = columnsOf(D.finding_columns);
  var F = D.findings;
  var N = F.length;
  var S = D.strings;
  var RULES = D.rules;
  var STATUS_LABEL = { alarm: 'Alarm', error: 'Error', skip: 'Skipped', ok: 'Passed', suppressed: 'Suppressed' };
  var CHANGE_LABEL = { 'new': 'New since previous scan', open: 'Still open' };
  var FW = {};
  D.frameworks.forEach(function (fw) { FW[fw.id] = fw; });
  var FWC = D.frameworks.length ? columnsOf(D.frameworks[0].control_columns) : {};

  var sevRank = new Int8Array(N);
  var state = new Array(N);                  // effective status: suppressed wins
  for (var i = 0; i < N; i++) {
    var r = F[i];
    var sv = r[C.severity];
    sevRank[i] = sv >= 0 ? sv : SEVS.indexOf(RULES[r[C.rule]].severity);
    var st = typeof r[C.status] === 'number' ? D.statuses[r[C.status]] : String(r[C.status]);
    state[i] = r[C.suppression] >= 0 ? 'suppressed' : st;
  }
  function ruleOf(i) { return RULES[F[i][C.rule]]; }
  function sevOf(i) { return sevRank[i] >= 0 ? SEVS[sevRank[i]] : 'unknown'; }
  function rawStatus(i) { var s = F[i][C.status]; return typeof s === 'number' ? D.statuses[s] : String(s); }
  function regionOf(i) { return S[F[i][C.region]]; }
  function accountOf(i) { return S[F[i][C.account]]; }
  function firstSeenOf(i) { var k = F[i][C.first_seen]; return k >= 0 ? S[k] : ''; }
  function changeOf(i) { return D.changes[F[i][C.change]] || ''; }
  // Reasons and CLI commands are an index into D.texts, a table of shapes
  // shared by many rows in which U+E000..U+E004 stand for the row's
  // resource, resource id (the ARN's last segment), name, region and
  // account; or the text itself.
  var TEXTS = D.texts;
  function expand(r, v) {
    if (typeof v !== 'number') return v == null ? '' : String(v);
    var t = TEXTS[v];
    if (!/[\ue000-\ue004]/.test(t)) return t;
    var res = r[C.resource], cut = Math.max(res.lastIndexOf('/'), res.lastIndexOf(':'));
    var vals = [res, cut >= 0 ? res.slice(cut + 1) : '', r[C.name], S[r[C.region]], S[r[C.account]]];
    return t.replace(/[\ue000-\ue004]/g, function (ch) { return vals[ch.charCodeAt(0) - 0xe000]; });
  }
  function reasonOf(i) { return expand(F[i], F[i][C.reason]); }
  function cliOf(i) { return expand(F[i], F[i][C.cli]); }
  function suppressionOf(i) { var k = F[i][C.suppression]; return k >= 0 ? D.suppressions[k] : null; }

  var sum = D.summary;
  var totalAlarms = sum.by_status.alarm || 0;
  var passed = sum.by_status.ok || 0;
  var passRate = passed + totalAlarms > 0 ? (100 * passed / (passed + totalAlarms)) : 100;

  // ------------------------------------------------------------ filters
  // One value per dimension; the default view is the unsuppressed alarms.
  var DEFAULT_FILTERS = [['status', 'alarm']];
  var filters = new Map(DEFAULT_FILTERS);
  var query = '';
  var haystack = null;                       // built on the first search
  var ruleSets = {};                         // filter value -> Set of rule indexes

  function rulesOfFramework(fwId) {
    var key = 'fw:' + fwId;
    if (!ruleSets[key]) {
      var set = new Set();
      RULES.forEach(function (rule, k) { if (rule.compliance && rule.compliance[fwId]) set.add(k); });
      ruleSets[key] = set;
    }
    return ruleSets[key];
  }
  function controlById(fwId, ctlId) {
    var fw = FW[fwId];
    if (!fw) return null;
    for (var k = 0; k < fw.controls.length; k++) if (fw.controls[k][FWC.id] === ctlId) return fw.controls[k];
    return null;
  }
  function rulesOfControl(value) {
    var key = 'ctl:' + value;
    if (!ruleSets[key]) {
      var p = value.indexOf('|');
      var ctl = controlById(value.slice(0, p), value.slice(p + 1));
      ruleSets[key] = new Set(ctl ? ctl[FWC.rules] : []);
    }
    return ruleSets[key];
  }
  var FILTER_DEFS = {
    severity: { label: 'Severity', test: function (i, v) { return sevOf(i) === v; }, show: cap },
    service: { label: 'Service', test: function (i, v) { return ruleOf(i).service === v; } },
    region: { label: 'Region', test: function (i, v) { return regionOf(i) === v; } },
    account: { label: 'Account', test: function (i, v) { return accountOf(i) === v; } },
    status: { label: 'Status', test: function (i, v) { return state[i] === v; }, show: function (v) { return STATUS_LABEL[v] || v; } },
    change: { label: 'Change', test: function (i, v) { return changeOf(i) === v; }, show: function (v) { return CHANGE_LABEL[v] || v; } },
    rule: { label: 'Rule', test: function (i, v) { return ruleOf(i).id === v; } },
    framework: {
      label: 'Framework',
      test: function (i, v) { return rulesOfFramework(v).has(F[i][C.rule]); },
      show: function (v) { return FW[v] ? FW[v].title : v; }
    },
    control: {
      label: 'Control',
      test: function (i, v) { return rulesOfControl(v).has(F[i][C.rule]); },
      show: function (v) { var p = v.indexOf('|'); var fw = FW[v.slice(0, p)]; return (fw ? fw.title : v.slice(0, p)) + ' ' + v.slice(p + 1); }
    }
  };

  function buildHaystack() {
    haystack = new Array(N);
    for (var k = 0; k < N; k++) {
      var r = F[k], rule = RULES[r[C.rule]];
      haystack[k] = (rule.id + '\n' + rule.title + '\n' + r[C.resource] + '\n' + r[C.name] + '\n' + reasonOf(k) + '\n' +
                     S[r[C.region]] + '\n' + S[r[C.account]] + '\n' + rule.service).toLowerCase();
    }
  }
  function currentIndices() {
    var active = [];
    filters.forEach(function (v, k) { active.push([FILTER_DEFS[k].test, v]); });
    var terms = query.toLowerCase().split(/\s+/).filter(Boolean);
    if (terms.length && !haystack) buildHaystack();
    var out = [];
    outer: for (var k = 0; k < N; k++) {
      for (var a = 0; a < active.length; a++) if (!active[a][0](k, active[a][1])) continue outer;
      for (var t = 0; t < terms.length; t++) if (haystack[k].indexOf(terms[t]) < 0) continue outer;
      out.push(k);
    }
    return out;
  }

  // ------------------------------------------------------- generic table
  // A sortable, paged table of `items` (anything); columns give html(item)
  // and an optional sort value. Rows are focusable and open on Enter.
  function Table(opts) {
    var self = {
      items: [], sortKey: null, sortDir: 1, page: 0, pageSize: opts.pageSize || 50, sorted: null
    };
    var table = opts.table, pager = opts.pager;
    function head() {
      var h = '<thead><tr>';
      opts.columns.forEach(function (c) {
        var cls = c.num ? ' class="num"' : '';
        if (c.sort) {
          var aria = self.sortKey === c.key ? ' aria-sort="' + (self.sortDir > 0 ? 'ascending' : 'descending') + '"' : '';
          var arrow = self.sortKey === c.key ? (self.sortDir > 0 ? '&#9650;' : '&#9660;') : '&#8693;';
          h += '<th scope="col"' + cls + aria + '><button type="button" data-sort="' + c.key + '">' + esc(c.label) +
               '<span class="arrow" aria-hidden="true">' + arrow + '</span></button></th>';
        } else {
          h += '<th scope="col"' + cls + '><span class="th">' + esc(c.label) + '</span></th>';
        }
      });
      return h + '</tr></thead>';
    }
    function ordered() {
      if (self.sorted) return self.sorted;
      if (!self.sortKey) return (self.sorted = self.items);
      var c = opts.columns.filter(function (x) { return x.key === self.sortKey; })[0];
      var keyed = self.items.map(function (it, pos) { return [c.sort(it), pos, it]; });
      var dir = self.sortDir;
      keyed.sort(function (a, b) {
        var x = a[0], y = b[0];
        if (x < y) return -dir;
        if (x > y) return dir;
        return a[1] - b[1];
      });
      return (self.sorted = keyed.map(function (k) { return k[2]; }));
    }
    self.setItems = function (items, keepPage) {
      self.items = items;
      self.sorted = null;
      if (!keepPage) self.page = 0;
      self.render();
    };
    self.visible = function () { return ordered(); };
    self.render = function () {
      var rows = ordered();
      var pages = Math.max(1, Math.ceil(rows.length / self.pageSize));
      if (self.page >= pages) self.page = pages - 1;
      var start = self.page * self.pageSize, end = Math.min(rows.length, start + self.pageSize);
      var b = '<tbody>';
      if (!rows.length) {
        b += '<tr><td class="empty" colspan="' + opts.columns.length + '">' + esc(opts.empty || 'Nothing to show.') + '</td></tr>';
      }
      for (var p = start; p < end; p++) {
        var it = rows[p];
        b += '<tr' + (opts.open ? ' class="clickable" tabindex="0"' : '') + ' data-pos="' + p + '"' +
             (opts.rowAttrs ? opts.rowAttrs(it) : '') + '>';
        for (var c = 0; c < opts.columns.length; c++) {
          var col = opts.columns[c];
          b += '<td' + (col.num ? ' class="num"' : col.cls ? ' class="' + col.cls + '"' : '') + '>' + col.html(it) + '</td>';
        }
        b += '</tr>';
      }
      table.innerHTML = head() + b + '</tbody>';
      if (pager) {
        if (rows.length <= 25 && self.pageSize >= 25 && !opts.alwaysPager) {
          pager.innerHTML = '';
        } else {
          pager.innerHTML = '<span class="range">' + (rows.length ? fmt(start + 1) + '–' + fmt(end) + ' of ' + fmt(rows.length) : 'None') + '</span>' +
            '<span class="pages"><label>Rows <select data-size>' + [25, 50, 100, 250, 500].map(function (n) {
              return '<option' + (n === self.pageSize ? ' selected' : '') + '>' + n + '</option>';
            }).join('') + '</select></label>' +
            '<button type="button" class="btn small" data-page="first"' + (self.page === 0 ? ' disabled' : '') + ' aria-label="First page">&laquo;</button>' +
            '<button type="button" class="btn small" data-page="prev"' + (self.page === 0 ? ' disabled' : '') + '>Previous</button>' +
            '<span class="tabular">Page ' + fmt(self.page + 1) + ' of ' + fmt(pages) + '</span>' +
            '<button type="button" class="btn small" data-page="next"' + (self.page >= pages - 1 ? ' disabled' : '') + '>Next</button>' +
            '<button type="button" class="btn small" data-page="last"' + (self.page >= pages - 1 ? ' disabled' : '') + ' aria-label="Last page">&raquo;</button></span>';
        }
      }
      if (opts.afterRender) opts.afterRender();
    };
    self.itemAt = function (pos) { return ordered()[pos]; };
    self.showItem = function (item) {
      var pos = ordered().indexOf(item);
      if (pos < 0) return;
      var page = Math.floor(pos / self.pageSize);
      if (page !== self.page) { self.page = page; self.render(); }
    };
    self.rowOf = function (item) {
      var pos = ordered().indexOf(item);
      return pos < 0 ? null : table.querySelector('tr[data-pos="' + pos + '"]');
    };
    table.addEventListener('click', function (e) {
      var sb = e.target.closest('button[data-sort]');
      if (sb) {
        var key = sb.getAttribute('data-sort');
        if (self.sortKey === key) {
          self.sortDir = -self.sortDir;
        } else {
          var c = opts.columns.filter(function (x) { return x.key === key; })[0];
          self.sortKey = key;
          self.sortDir = c.desc ? -1 : 1;
        }
        self.sorted = null;
        self.page = 0;
        self.render();
        var again = table.querySelector('button[data-sort="' + key + '"]');
        if (again) again.focus();
        return;
      }
      if (!opts.open) return;
      var tr = e.target.closest('tr[data-pos]');
      if (tr && !e.target.closest('a,button')) opts.open(self.itemAt(+tr.getAttribute('data-pos')), self);
    });
    table.addEventListener('keydown', function (e) {
      var tr = e.target.closest && e.target.closest('tr[data-pos]');
      if (!tr || e.target !== tr) return;
      if ((e.key === 'Enter' || e.key === ' ') && opts.open) {
        e.preventDefault();
        opts.open(self.itemAt(+tr.getAttribute('data-pos')), self);
      } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        var next = e.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling;
        if (next) next.focus();
      }
    });
    if (pager) {
      pager.addEventListener('click', function (e) {
        var b = e.target.closest('button[data-page]');
        if (!b) return;
        var pages = Math.max(1, Math.ceil(ordered().length / self.pageSize));
        var what = b.getAttribute('data-page');
        self.page = what === 'first' ? 0 : what === 'last' ? pages - 1 : what === 'prev' ? Math.max(0, self.page - 1) : Math.min(pages - 1, self.page + 1);
        self.render();
        var again = pager.querySelector('button[data-page="' + what + '"]:not([disabled])');
        if (again) again.focus();
      });
      pager.addEventListener('change', function (e) {
        if (!e.target.hasAttribute('data-size')) return;
        self.pageSize = +e.target.value;
        self.page = 0;
        self.render();
      });
    }
    return self;
  }

  // ------------------------------------------------------------- header
  function renderHeader() {
    var scan = D.scan;
    $('report-title').textContent = 'Security posture of account ' + (scan.account_id || 'unknown');
    var meta = [
      ['Account', scan.account_id + (scan.partition && scan.partition !== 'aws' ? ' (' + scan.partition + ')' : '')],
      ['Regions', scan.regions && scan.regions.length ? (scan.regions.length > 4 ? scan.regions.length + ' regions' : scan.regions.join(', ')) : '—'],
      ['Scanned', when(scan.started_at)],
      ['Scan', '#' + scan.id],
      ['Collected by', 'cloudaudit ' + (scan.tool_version || '?')],
      ['Report', when(D.generated_at) + (D.tool_version ? ' · cloudaudit ' + D.tool_version : '')]
    ];
    $('scan-meta').innerHTML = meta.map(function (m) {
      return '<div><dt>' + esc(m[0]) + '</dt><dd' + (m[0] === 'Regions' && scan.regions && scan.regions.length > 4 ? ' title="' + esc(scan.regions.join(', ')) + '"' : '') + '>' + esc(m[1]) + '</dd></div>';
    }).join('');
    var pill = $('scan-status');
    pill.textContent = 'Scan ' + (scan.status || 'unknown');
    pill.className = 'status-pill ' + (scan.status || '');
    pill.title = scan.status === 'complete' ? 'Every listing and enrichment call succeeded' : 'Some data could not be read: see Collection';

    var sevs = SEV_DESC.filter(function (s) { return sum.alarms_by_severity[s]; }).map(function (s) {
      return '<button type="button" class="sev-count" data-filter-key="severity" data-filter-value="' + s + '" data-kpi="' + s + '" title="Show ' + s + ' alarms">' +
             '<span class="dot" style="background:' + sevColor(s) + '"></span><span class="kpi-n">' + fmt(sum.alarms_by_severity[s]) + '</span> ' + s + '</button>';
    }).join('');
    var kpis = [
      '<div class="card kpi" data-kpi="alarms"><span class="kpi-label">Open alarms</span><span class="kpi-value">' + fmt(totalAlarms) +
        '</span><div class="kpi-sevs">' + (sevs || '<span class="kpi-sub">No alarms — every evaluated rule passed or was skipped.</span>') + '</div></div>',
      '<div class="card kpi" data-kpi="pass-rate"><span class="kpi-label">Pass rate</span><span class="kpi-value">' + passRate.toFixed(1) + '%</span>' +
        '<div class="meter" aria-hidden="true"><span style="width:' + passRate.toFixed(1) + '%"></span></div><span class="kpi-sub">' + fmt(passed) + ' passed of ' + fmt(passed + totalAlarms) + ' results</span></div>',
      '<div class="card kpi" data-kpi="resources"><span class="kpi-label">Resources</span><span class="kpi-value">' + fmt(sum.resources) + '</span><span class="kpi-sub">evaluated</span></div>',
      '<div class="card kpi" data-kpi="rules"><span class="kpi-label">Rules</span><span class="kpi-value">' + fmt(sum.rules) + '</span><span class="kpi-sub">' + plural(D.frameworks.length, 'framework') + '</span></div>',
      '<div class="card kpi" data-kpi="suppressed"><span class="kpi-label">Suppressed</span><span class="kpi-value">' + fmt(sum.suppressed) + '</span><span class="kpi-sub">accepted by a suppression</span></div>',
      '<div class="card kpi" data-kpi="skipped"><span class="kpi-label">Skipped</span><span class="kpi-value">' + fmt(sum.by_status.skip || 0) + '</span><span class="kpi-sub">' +
        plural(sum.by_status.error || 0, 'error') + ' · ' + plural(D.gaps.length, 'collection gap') + '</span></div>'
    ];
    $('kpis').innerHTML = kpis.join('');
    if (D.alerts.length) {
      document.querySelector('[data-section="threats"]').hidden = false;
    }
  }

  // ------------------------------------------------------------- charts
  function donut(container, parts, total, label) {
    // parts: [{key, value, color, title}]
    var size = 150, r = 58, w = 20, cx = size / 2, cy = size / 2;
    var svg = svgEl('svg', { viewBox: '0 0 ' + size + ' ' + size, width: 132, height: 132, role: 'group', 'aria-label': label });
    svg.appendChild(svgEl('circle', { cx: cx, cy: cy, r: r, fill: 'none', stroke: 'var(--surface-2)', 'stroke-width': w }));
    var sumv = parts.reduce(function (a, p) { return a + p.value; }, 0);
    var angle = -Math.PI / 2;
    parts.forEach(function (p) {
      if (!p.value) return;
      var frac = p.value / sumv;
      var a1 = angle, a2 = angle + frac * Math.PI * 2;
      angle = a2;
      var path;
      if (frac >= 0.9999) {
        path = svgEl('circle', { cx: cx, cy: cy, r: r, fill: 'none', stroke: p.color, 'stroke-width': w });
      } else {
        var gap = parts.filter(function (q) { return q.value; }).length > 1 ? 0.012 : 0;
        var b1 = a1 + gap, b2 = a2 - gap;
        var large = b2 - b1 > Math.PI ? 1 : 0;
        var d = 'M ' + (cx + r * Math.cos(b1)) + ' ' + (cy + r * Math.sin(b1)) +
                ' A ' + r + ' ' + r + ' 0 ' + large + ' 1 ' + (cx + r * Math.cos(b2)) + ' ' + (cy + r * Math.sin(b2));
        path = svgEl('path', { d: d, fill: 'none', stroke: p.color, 'stroke-width': w });
      }
      path.setAttribute('class', 'seg');
      path.setAttribute('tabindex', '0');
      path.setAttribute('role', 'button');
      path.setAttribute('aria-label', p.title);
      path.setAttribute('data-filter-key', p.filterKey);
      path.setAttribute('data-filter-value', p.key);
      var tt = svgEl('title', {});
      tt.textContent = p.title;
      path.appendChild(tt);
      svg.appendChild(path);
    });
    var t1 = svgEl('text', { x: cx, y: cy + 2, 'text-anchor': 'middle', 'class': 'donut-total' });
    t1.textContent = fmt(total);
    var t2 = svgEl('text', { x: cx, y: cy + 20, 'text-anchor': 'middle', 'class': 'donut-label' });
    t2.textContent = 'alarms';
    svg.appendChild(t1);
    svg.appendChild(t2);
    container.appendChild(svg);
  }

  function renderCharts() {
    // Severity donut + legend.
    var sevBox = $('chart-severity');
    if (!totalAlarms) {
      sevBox.innerHTML = '<div class="chart-empty">No open alarms.</div>';
    } else {
      var wrap = document.createElement('div');
      wrap.className = 'donut-wrap';
      var parts = SEV_DESC.filter(function (s) { return sum.alarms_by_severity[s]; }).map(function (s) {
        return { key: s, value: sum.alarms_by_severity[s], color: sevColor(s), filterKey: 'severity', title: cap(s) + ': ' + plural(sum.alarms_by_severity[s], 'alarm') };
      });
      donut(wrap, parts, totalAlarms, 'Alarms by severity');
      var ul = document.createElement('ul');
      ul.className = 'legend';
      ul.innerHTML = SEV_DESC.map(function (s) {
        var n = sum.alarms_by_severity[s] || 0;
        return '<li><button type="button" data-filter-key="severity" data-filter-value="' + s + '"' + (n ? '' : ' disabled') + '>' +
               '<span class="dot" style="background:' + sevColor(s) + '"></span><span class="lname">' + s + '</span><span class="lval">' + fmt(n) + '</span></button></li>';
      }).join('');
      wrap.appendChild(ul);
      sevBox.appendChild(wrap);
    }

    // Services: horizontal bars, each split by severity.
    var svcBox = $('chart-service');
    var bySvc = {};
    for (var k = 0; k < N; k++) {
      if (state[k] !== 'alarm') continue;
      var svc = ruleOf(k).service;
      var e = bySvc[svc] || (bySvc[svc] = { total: 0 });
      e.total++;
      var sv = sevOf(k);
      e[sv] = (e[sv] || 0) + 1;
    }
    var svcs = Object.keys(bySvc).sort(function (a, b) { return bySvc[b].total - bySvc[a].total || (a < b ? -1 : 1); });
    if (!svcs.length) {
      svcBox.innerHTML = '<div class="chart-empty">No open alarms.</div>';
    } else {
      var shown = svcs.slice(0, 8), max = bySvc[shown[0]].total;
      svcBox.innerHTML = '<div class="bars">' + shown.map(function (s) {
        var e = bySvc[s];
        var segs = SEV_DESC.filter(function (v) { return e[v]; }).map(function (v) {
          return '<span style="width:' + (100 * e[v] / max).toFixed(2) + '%;background:' + sevColor(v) + '" title="' + esc(v + ': ' + e[v]) + '"></span>';
        }).join('');
        return '<button type="button" class="bar-row seg-row" data-filter-key="service" data-filter-value="' + esc(s) + '" aria-label="' + esc(s + ': ' + plural(e.total, 'alarm')) + '">' +
               '<span class="bname">' + esc(s) + '</span><span class="bar-track">' + segs + '</span><span class="bval">' + fmt(e.total) + '</span></button>';
      }).join('') + '</div>' + (svcs.length > shown.length ? '<div class="more">+ ' + plural(svcs.length - shown.length, 'more service') + ' (use the Service filter)</div>' : '');
    }

    // Compliance: one stacked bar per framework.
    var fwBox = $('chart-compliance');
    if (!D.frameworks.length) {
      fwBox.innerHTML = '<div class="chart-empty">No framework was selected for this report.</div>';
    } else if (D.frameworks.length <= 2) {
      // Few frameworks: a ring each, with its control counts as the legend.
      fwBox.innerHTML = D.frameworks.map(function (fw) {
        var items = [['fail', fw.fail, 'var(--fail)', 'Failing'], ['pass', fw.pass, 'var(--pass)', 'Passing'], ['manual', fw.manual, 'var(--manual)', 'Manual'],
                     ['not_applicable', fw.not_applicable + fw.unknown, 'var(--na)', 'Not applicable']].filter(function (x) { return x[1]; });
        return '<div class="fw-feature"><div class="fw-feature-head">' + ring(fw.percent, D.frameworks.length === 1 ? 76 : 56) +
               '<div><div class="fw-t">' + esc(fw.title) + '</div><div class="kpi-sub">' + Math.round(fw.percent) + '% of automated controls pass</div></div></div>' +
               '<ul class="legend">' + items.map(function (x) {
                 return '<li><button type="button" data-fw="' + esc(fw.id) + '" data-fw-status="' + x[0] + '"><span class="dot" style="background:' + x[2] + '"></span>' +
                        '<span class="lname">' + x[3] + ' controls</span><span class="lval">' + fmt(x[1]) + '</span></button></li>';
               }).join('') + '</ul></div>';
      }).join('');
    } else {
      var fws = D.frameworks.slice(0, 5);
      fwBox.innerHTML = '<div class="fw-rows">' + fws.map(function (fw) {
        var total = fw.pass + fw.fail + fw.manual + fw.not_applicable + fw.unknown;
        var x = 0;
        var segs = [['pass', fw.pass, 'var(--pass)', 'Passing controls'], ['fail', fw.fail, 'var(--fail)', 'Failing controls'],
                    ['manual', fw.manual, 'var(--manual)', 'Manual controls'], ['not_applicable', fw.not_applicable + fw.unknown, 'var(--na)', 'Not applicable or unknown']]
          .filter(function (s) { return s[1]; }).map(function (s) {
            var wpx = total ? 100 * s[1] / total : 0;
            var rect = '<rect class="seg" tabindex="0" role="button" x="' + x.toFixed(3) + '%" y="0" width="' + wpx.toFixed(3) + '%" height="8" fill="' + s[2] + '"' +
                       ' data-fw="' + esc(fw.id) + '" data-fw-status="' + s[0] + '" aria-label="' + esc(fw.title + ': ' + s[1] + ' ' + s[3].toLowerCase()) + '">' +
                       '<title>' + esc(s[3] + ': ' + s[1]) + '</title></rect>';
            x += wpx;
            return rect;
          }).join('');
        return '<div class="fw-row"><span class="fw-name" title="' + esc(fw.title) + '">' + esc(fw.title) + '</span><span class="fw-pct">' + Math.round(fw.percent) + '%</span>' +
               '<svg width="100%" height="8" role="group" aria-label="' + esc(fw.title + ' controls') + '" style="border-radius:4px;grid-column:1/span 2">' + segs + '</svg>' +
               '<span class="fw-sub">' + fmt(fw.pass) + ' pass · ' + fmt(fw.fail) + ' fail · ' + fmt(fw.manual) + ' manual</span></div>';
      }).join('') + '</div>' + (D.frameworks.length > fws.length ? '<div class="more">+ ' + plural(D.frameworks.length - fws.length, 'more framework') + ' in Compliance</div>' : '');
    }

    // Changes: new / still open / resolved.
    var chBox = $('chart-changes');
    if (!D.diff) {
      chBox.innerHTML = '<div class="chart-empty">This is the first evaluated scan of the account: nothing to compare yet.</div>';
    } else {
      var cols = [['new', D.diff['new'], 'var(--new)', 'New'], ['open', D.diff.open, 'var(--manual)', 'Still open'], ['resolved', D.diff.resolved.length, 'var(--pass)', 'Resolved']];
      var cmax = Math.max(1, cols[0][1], cols[1][1], cols[2][1]);
      chBox.innerHTML = '<div class="change-bars">' + cols.map(function (c) {
        var attrs = c[0] === 'resolved' ? ' data-goto="resolved"' : ' data-filter-key="change" data-filter-value="' + c[0] + '"';
        return '<button type="button" class="change-col"' + attrs + ' aria-label="' + esc(c[3] + ': ' + c[1]) + '"><span class="cval">' + fmt(c[1]) + '</span>' +
               '<span class="cbar" style="height:' + Math.max(2, 100 * c[1] / cmax * 0.72).toFixed(1) + '%;background:' + c[2] + '"></span><span class="cname">' + c[3] + '</span></button>';
      }).join('') + '</div><div class="more" style="text-align:center">since scan #' + D.diff.previous_scan_id + ' of ' + esc(day(D.diff.previous_started_at)) + '</div>';
    }
  }

  // ----------------------------------------------------- findings table
  var findingColumns = [
    { key: 'severity', label: 'Severity', desc: true, sort: function (i) { return sevRank[i]; }, cls: 'nowrap',
      html: function (i) { var s = sevOf(i); return '<span class="sev sev-' + s + '">' + s + '</span>'; } },
    { key: 'rule', label: 'Finding', cls: 'wide', sort: function (i) { return ruleOf(i).title.toLowerCase(); },
      html: function (i) {
        var r = F[i];
        return '<span class="main">' + esc(ruleOf(i).title) + (changeOf(i) === 'new' ? ' <span class="badge new">New</span>' : '') + '</span>' +
               '<span class="reason">' + esc(reasonOf(i)) + '</span>';
      } },
    { key: 'resource', label: 'Resource', sort: function (i) { return (F[i][C.name] || F[i][C.resource]).toLowerCase(); },
      html: function (i) {
        var r = F[i];
        return '<span class="main" title="' + esc(r[C.resource]) + '">' + esc(r[C.name] || r[C.resource]) + '</span>' +
               (r[C.name] && r[C.name] !== r[C.resource] ? '<span class="sub mono" title="' + esc(r[C.resource]) + '">' + esc(r[C.resource]) + '</span>' : '');
      } },
    { key: 'region', label: 'Region', cls: 'nowrap', sort: regionOf, html: function (i) { return esc(regionOf(i)); } },
    { key: 'account', label: 'Account', cls: 'nowrap', sort: accountOf, html: function (i) { return '<span class="mono">' + esc(accountOf(i)) + '</span>'; } },
    { key: 'status', label: 'Status', cls: 'nowrap', sort: function (i) { return state[i]; },
      html: function (i) { return '<span class="badge ' + state[i] + '">' + esc(STATUS_LABEL[state[i]] || state[i]) + '</span>'; } },
    { key: 'first_seen', label: 'First seen', cls: 'nowrap', sort: firstSeenOf, html: function (i) { return '<span class="tabular">' + esc(day(firstSeenOf(i))) + '</span>'; } }
  ];
  // One account (the usual case) is named in the header; its column would
  // only take width from the resource names.
  var multiAccount = distinct(accountOf).length > 1;
  if (!multiAccount) findingColumns = findingColumns.filter(function (c) { return c.key !== 'account'; });
  var findingsTable = Table({
    table: $('findings-table'), pager: $('findings-pager'), columns: findingColumns, pageSize: 50, alwaysPager: true,
    empty: 'No finding matches these filters.',
    rowAttrs: function (i) { return ' data-finding="' + i + '"'; },
    open: function (i, t) { openFinding(i, t); }
  });

  var selectDims = [
    ['severity', 'Any severity', function () { return SEV_DESC.filter(function (s) { for (var k = 0; k < N; k++) if (sevOf(k) === s) return true; return false; }); }],
    ['service', 'Any service', function () { return distinct(function (k) { return ruleOf(k).service; }); }],
    ['region', 'Any region', function () { return distinct(regionOf); }],
    ['account', 'Any account', function () { return distinct(accountOf); }],
    ['status', 'Any status', function () { return ['alarm', 'error', 'skip', 'ok', 'suppressed'].filter(function (s) { return state.indexOf(s) >= 0; }); }],
    ['change', 'Any change', function () { return D.diff ? ['new', 'open'] : []; }]
  ];
  function distinct(get) {
    var set = new Set();
    for (var k = 0; k < N; k++) set.add(get(k));
    return Array.from(set).sort();
  }
  function renderSelects() {
    var html = '';
    selectDims.forEach(function (d) {
      var values = d[2]();
      if (d[0] === 'account' && values.length < 2) return;
      if (d[0] === 'change' && !values.length) return;
      var def = FILTER_DEFS[d[0]];
      html += '<label><span class="visually-hidden">' + esc(def.label) + '</span><select data-filter-select="' + d[0] + '"><option value="">' + esc(d[1]) + '</option>' +
        values.map(function (v) { return '<option value="' + esc(v) + '">' + esc(def.show ? def.show(v) : v) + '</option>'; }).join('') + '</select></label>';
    });
    $('filter-selects').innerHTML = html;
  }
  function syncControls() {
    document.querySelectorAll('select[data-filter-select]').forEach(function (sel) {
      var v = filters.get(sel.getAttribute('data-filter-select'));
      sel.value = v == null ? '' : v;
      if (v != null && sel.value !== v) {
        // A value the select does not list (e.g. a rule): leave it at "any".
        sel.value = '';
      }
    });
    document.querySelectorAll('[data-filter-key]').forEach(function (el) {
      var on = filters.get(el.getAttribute('data-filter-key')) === el.getAttribute('data-filter-value');
      el.classList.toggle('active', on);
      if (el.tagName === 'BUTTON') el.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
    var chips = '';
    filters.forEach(function (v, k) {
      var def = FILTER_DEFS[k];
      chips += '<span class="chip" data-chip="' + esc(k) + '">' + esc(def.label) + ': <b>' + esc(def.show ? def.show(v) : v) + '</b>' +
               '<button type="button" data-remove="' + esc(k) + '" aria-label="Remove filter ' + esc(def.label) + '">&#10005;</button></span>';
    });
    if (query) {
      chips += '<span class="chip" data-chip="search">Search: <b>' + esc(query) + '</b><button type="button" data-remove="search" aria-label="Clear the search">&#10005;</button></span>';
    }
    var isDefault = !query && filters.size === DEFAULT_FILTERS.length && DEFAULT_FILTERS.every(function (f) { return filters.get(f[0]) === f[1]; });
    if (!chips) chips = '<span class="none">No filter: every embedded result is listed.</span>';
    if (filters.size || query) chips += '<button type="button" class="link" id="clear-filters">Clear all</button>';
    if (!isDefault) chips += '<button type="button" class="link" id="default-view">Default view</button>';
    $('chips').innerHTML = chips;
  }
  var timing = { parseMs: parseMs, renderMs: 0, filterMs: 0, findings: N };
  function applyFilters(keepPage) {
    var t = performance.now();
    var idx = currentIndices();
    findingsTable.setItems(idx, keepPage);
    timing.filterMs = performance.now() - t;
    var el = $('findings-count');
    el.textContent = plural(idx.length, 'finding');
    el.setAttribute('data-count', String(idx.length));
    syncControls();
  }
  function setFilter(key, value, toggle) {
    if (toggle && filters.get(key) === value) {
      filters.delete(key);
    } else {
      filters.set(key, value);
      // A severity, service or change is a question about open alarms.
      if ((key === 'severity' || key === 'service' || key === 'change' || key === 'framework' || key === 'control') && !filters.has('status')) filters.set('status', 'alarm');
    }
    applyFilters();
  }
  function revealFindings() {
    var sec = $('findings');
    var top = sec.getBoundingClientRect().top;
    if (top > window.innerHeight * 0.6 || top < 0) sec.scrollIntoView({ block: 'start' });
  }

  function renderFindingsNote() {
    var rows = D.passed_rows_included ? '' : ' Passed results are not listed one by one: their counts are in Rules (' + fmt(passed) + ' passed).';
    $('findings-note').textContent = 'Worst first. ' + fmt(N) + ' results embedded (alarms, suppressed, skipped and errors).' + rows;
  }

  // -------------------------------------------------------------- drawer
  var drawerCtx = null;   // {kind, list: Table, item}
  var lastFocus = null;
  function openDrawer(title, body, ctx) {
    if (!drawerCtx) lastFocus = document.activeElement;
    drawerCtx = ctx;
    $('drawer-title').textContent = title;
    $('drawer-body').innerHTML = body;
    $('drawer-body').scrollTop = 0;
    $('drawer').hidden = false;
    $('backdrop').hidden = false;
    document.body.classList.add('drawer-open');
    var list = ctx.table ? ctx.table.visible() : [];
    var pos = list.indexOf(ctx.item);
    $('drawer-prev').disabled = pos <= 0;
    $('drawer-next').disabled = pos < 0 || pos >= list.length - 1;
    $('drawer').focus();
  }
  function closeDrawer() {
    if (!drawerCtx) return;
    var ctx = drawerCtx;
    drawerCtx = null;
    $('drawer').hidden = true;
    $('backdrop').hidden = true;
    document.body.classList.remove('drawer-open');
    var row = ctx.table && ctx.table.rowOf(ctx.item);
    if (row) row.focus();
    else if (lastFocus && lastFocus.focus) lastFocus.focus();
  }
  function stepDrawer(delta) {
    if (!drawerCtx || !drawerCtx.table) return;
    var list = drawerCtx.table.visible();
    var pos = list.indexOf(drawerCtx.item) + delta;
    if (pos < 0 || pos >= list.length) return;
    drawerCtx.table.showItem(list[pos]);
    drawerCtx.open(list[pos], drawerCtx.table);
  }
  function codeBlock(text, copyLabel, wrap) {
    return '<div class="code-block"><pre class="code' + (wrap ? ' wrap' : '') + '">' + esc(text) + '</pre>' +
           (copyLabel ? '<button type="button" class="btn small copy" data-copy>' + esc(copyLabel) + '</button>' : '') + '</div>';
  }
  function kv(pairs) {
    return '<dl class="kv">' + pairs.filter(function (p) { return p[1] !== '' && p[1] != null; }).map(function (p) {
      return '<dt>' + esc(p[0]) + '</dt><dd>' + p[1] + '</dd>';
    }).join('') + '</dl>';
  }
  function section(title, html, cls) {
    return '<section class="detail-section' + (cls ? ' ' + cls : '') + '"><h3>' + esc(title) + '</h3>' + html + '</section>';
  }
  function tabs(id, entries) {
    entries = entries.filter(function (e) { return e[2]; });
    if (!entries.length) return '<p class="hint">This rule gives no remediation steps.</p>';
    var head = '<div class="tabs" role="tablist">' + entries.map(function (e, k) {
      return '<button type="button" role="tab" id="' + id + '-t' + k + '" aria-controls="' + id + '-p' + k + '" aria-selected="' + (k === 0) + '" tabindex="' + (k === 0 ? 0 : -1) + '" data-tab="' + e[0] + '">' + esc(e[1]) + '</button>';
    }).join('') + '</div>';
    return head + entries.map(function (e, k) {
      return '<div role="tabpanel" id="' + id + '-p' + k + '" aria-labelledby="' + id + '-t' + k + '" data-panel="' + e[0] + '"' + (k ? ' hidden' : '') + '>' + e[2] + '</div>';
    }).join('');
  }
  function complianceHtml(rule) {
    var fws = Object.keys(rule.compliance || {});
    if (!fws.length) return '';
    return section('Compliance', '<div class="comp-list">' + fws.map(function (fw) {
      var title = FW[fw] ? FW[fw].title : fw;
      return '<div class="comp-item"><span class="fw">' + esc(title) + '</span><span>' + rule.compliance[fw].map(function (c) {
        return '<span class="ctrl">' + esc(c) + '</span>';
      }).join('') + '</span></div>';
    }).join('') + '</div>');
  }
  function referencesHtml(rule) {
    if (!rule.references || !rule.references.length) return '';
    return section('References', '<ul class="refs">' + rule.references.map(function (u) {
      var safe = /^https?:\/\//i.test(u);
      return '<li>' + (safe ? '<a href="' + esc(u) + '" target="_blank" rel="noopener noreferrer">' + esc(u) + '</a>' : esc(u)) + '</li>';
    }).join('') + '</ul>');
  }
  function ruleCountsHtml(rule) {
    var c = rule.counts;
    return '<div class="rule-counts">This rule in this scan: <span><b>' + fmt(c.ok) + '</b> passed</span><span><b>' + fmt(c.alarm) + '</b> alarms</span>' +
           '<span><b>' + fmt(c.skip) + '</b> skipped</span><span><b>' + fmt(c.error) + '</b> errors</span><span><b>' + fmt(c.suppressed) + '</b> suppressed</span></div>';
  }
  function openFinding(i, table) {
    var r = F[i], rule = ruleOf(i), sev = sevOf(i), st = rawStatus(i), sup = suppressionOf(i), change = changeOf(i);
    var rem = rule.remediation || {};
    var cli = cliOf(i);
    var cliHtml = cli ? codeBlock(cli, 'Copy commands', true) + '<p class="hint after-code">Filled in with this resource\'s identifiers. Read them before you run them: they change your account.</p>'
                      : rem.cli ? codeBlock(rem.cli, 'Copy template', true) + '<p class="hint after-code">The rule\'s command template; fill in the placeholders.</p>' : '';
    var body = '<div class="detail-tags"><span class="sev sev-' + sev + '">' + sev + '</span><span class="badge ' + st + '">' + esc(STATUS_LABEL[st] || st) + '</span>' +
      (change === 'new' ? '<span class="badge new">New</span>' : '') + (sup ? '<span class="badge suppressed">Suppressed</span>' : '') +
      '<span class="rule-id">' + esc(rule.id) + '</span></div>' +
      '<div class="detail-reason status-' + esc(st) + '">' + esc(reasonOf(i)) + '</div>' +
      (rule.description ? '<p class="detail-desc">' + esc(rule.description) + '</p>' : '') +
      kv([['Resource', '<span class="mono">' + esc(r[C.resource]) + '</span>'],
          ['Name', esc(r[C.name])],
          ['Region', esc(regionOf(i))],
          ['Account', '<span class="mono">' + esc(accountOf(i)) + '</span>'],
          ['Service', esc(rule.service)],
          ['First seen', firstSeenOf(i) ? esc(when(firstSeenOf(i))) + (change === 'new' ? ' <span class="badge new">New since the previous scan</span>' : change === 'open' ? ' <span class="hint">(still open)</span>' : '') : ''],
          ['Pillars', esc((rule.pillars || []).join(', '))]]) +
      (sup ? section('Suppression', '<div class="supp">' + kv([['Reason', esc(sup.reason)], ['Owner', esc(sup.owner)], ['Expires', esc(sup.expires || 'never')],
                                                                   ['Matches', '<span class="mono">' + esc(sup.rule) + ' · ' + esc(sup.resource) + '</span>']]) + '</div>') : '') +
      (r[C.evidence] != null ? section('Evidence', codeBlock(pretty(r[C.evidence]), 'Copy')) : '') +
      section('Remediation', tabs('rem', [
        ['console', 'Console', rem.console ? '<p class="steps">' + esc(rem.console.trim()) + '</p>' : ''],
        ['cli', 'CLI', cliHtml],
        ['terraform', 'Terraform', rem.terraform ? codeBlock(rem.terraform.trim(), 'Copy') : ''],
        ['cloudformation', 'CloudFormation', rem.cloudformation ? codeBlock(rem.cloudformation.trim(), 'Copy') : '']
      ]) + (rem.prevent ? '<h3>How to prevent</h3><p class="steps">' + esc(rem.prevent.trim()) + '</p>' : ''), 'detail-remediation') +
      complianceHtml(rule) + referencesHtml(rule) +
      section('Rule', ruleCountsHtml(rule) + '<p><button type="button" class="btn small" data-filter-rule="' + esc(rule.id) + '">Show every result of this rule</button></p>');
    openDrawer(rule.title, body, { kind: 'finding', item: i, table: table, open: openFinding });
    // Open the CLI tab first for alarms with filled-in commands: it is what
    // a person acts on.
    if (cli) selectTab($('drawer-body').querySelector('[data-tab="cli"]'));
    $('drawer').setAttribute('data-finding', String(i));
  }
  function selectTab(btn) {
    if (!btn) return;
    var list = btn.parentNode;
    list.querySelectorAll('[role="tab"]').forEach(function (b) {
      var on = b === btn;
      b.setAttribute('aria-selected', on ? 'true' : 'false');
      b.tabIndex = on ? 0 : -1;
      $(b.getAttribute('aria-controls')).hidden = !on;
    });
  }

  // ---------------------------------------------------------- compliance
  var controlsTable = null, activeFw = null, controlStatus = '';
  function renderCompliance() {
    var box = $('compliance-body');
    if (!D.frameworks.length) {
      box.innerHTML = '<p class="hint">No framework was selected for this report (see <code>--framework</code>).</p>';
      return;
    }
    box.innerHTML = '<div class="fw-cards">' + D.frameworks.map(function (fw) {
      return '<button type="button" class="fw-card" data-fw-card="' + esc(fw.id) + '" aria-pressed="false">' + ring(fw.percent) +
             '<span><span class="fw-t">' + esc(fw.title) + '</span><span class="fw-s" style="display:block">' + fmt(fw.pass) + ' pass · ' + fmt(fw.fail) + ' fail · ' + fmt(fw.manual) + ' manual' +
             (fw.not_applicable ? ' · ' + fmt(fw.not_applicable) + ' n/a' : '') + '</span></span></button>';
    }).join('') + '</div><div class="fw-detail" id="fw-detail" hidden><div class="fw-detail-head"><h3 id="fw-detail-title" style="margin:0"></h3>' +
      '<div class="seg-tabs" id="ctl-status" role="group" aria-label="Control status">' + [['', 'All'], ['fail', 'Fail'], ['pass', 'Pass'], ['manual', 'Manual'], ['not_applicable', 'N/A']].map(function (s) {
        return '<button type="button" data-ctl-status="' + s[0] + '" aria-pressed="' + (s[0] === '') + '">' + s[1] + '</button>';
      }).join('') + '</div></div><div class="table-wrap"><table class="grid" id="controls-table"></table></div><div class="pager" id="controls-pager"></div></div>';
    controlsTable = Table({
      table: $('controls-table'), pager: $('controls-pager'), pageSize: 50,
      empty: 'No control with this status.',
      columns: [
        { key: 'id', label: 'Control', cls: 'nowrap', sort: function (c) { return c[FWC.id]; }, html: function (c) { return '<span class="ctrl">' + esc(c[FWC.id]) + '</span>'; } },
        { key: 'title', label: 'Title', cls: 'wide', sort: function (c) { return c[FWC.title]; }, html: function (c) { return '<span class="main" style="white-space:normal">' + esc(c[FWC.title]) + '</span>' + (c[FWC.section] ? '<span class="sub">' + esc(c[FWC.section]) + '</span>' : ''); } },
        { key: 'status', label: 'Status', cls: 'nowrap', sort: function (c) { return c[FWC.status]; }, html: function (c) { return '<span class="badge ' + esc(c[FWC.status]) + '">' + esc(c[FWC.status].replace('_', ' ')) + '</span>'; } },
        { key: 'rules', label: 'Rules', num: true, sort: function (c) { return c[FWC.rules].length; }, html: function (c) { return fmt(c[FWC.rules].length); } },
        { key: 'alarms', label: 'Alarms', num: true, desc: true, sort: function (c) { return c[FWC.alarms]; }, html: function (c) { return c[FWC.alarms] ? '<b class="warn">' + fmt(c[FWC.alarms]) + '</b>' : '0'; } },
        { key: 'oks', label: 'Passed', num: true, sort: function (c) { return c[FWC.oks]; }, html: function (c) { return fmt(c[FWC.oks]); } },
        { key: 'skips', label: 'Skipped', num: true, sort: function (c) { return c[FWC.skips]; }, html: function (c) { return fmt(c[FWC.skips]); } }
      ],
      open: function (c) {
        if (!c[FWC.rules].length) { toast('No automated rule maps to this control'); return; }
        filters.clear();
        filters.set('control', activeFw + '|' + c[FWC.id]);
        if (c[FWC.alarms]) filters.set('status', 'alarm');
        query = '';
        $('search').value = '';
        applyFilters();
        $('findings').scrollIntoView({ block: 'start' });
      }
    });
  }
  function ring(pct, px) {
    var r = 18, c = 2 * Math.PI * r, v = Math.max(0, Math.min(100, pct));
    return '<svg width="' + (px || 48) + '" height="' + (px || 48) + '" viewBox="0 0 48 48" aria-hidden="true"><circle cx="24" cy="24" r="' + r + '" fill="none" stroke="var(--surface-2)" stroke-width="6"/>' +
           (v > 0 ? '<circle cx="24" cy="24" r="' + r + '" fill="none" stroke="' + (v >= 80 ? 'var(--pass)' : v >= 50 ? 'var(--sev-medium)' : 'var(--fail)') + '" stroke-width="6"' +
           (v < 100 ? ' stroke-linecap="round"' : '') + ' stroke-dasharray="' + (c * v / 100).toFixed(2) + ' ' + c.toFixed(2) + '" transform="rotate(-90 24 24)"/>' : '') +
           '<text x="24" y="28" text-anchor="middle" class="ring-pct">' + Math.round(v) + '%</text></svg>';
  }
  function showFramework(fwId, status) {
    var fw = FW[fwId];
    if (!fw) return;
    activeFw = fwId;
    controlStatus = status || '';
    document.querySelectorAll('[data-fw-card]').forEach(function (b) {
      var on = b.getAttribute('data-fw-card') === fwId;
      b.classList.toggle('active', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    });
    document.querySelectorAll('[data-ctl-status]').forEach(function (b) { b.setAttribute('aria-pressed', b.getAttribute('data-ctl-status') === controlStatus ? 'true' : 'false'); });
    $('fw-detail').hidden = false;
    $('fw-detail-title').innerHTML = esc(fw.title) + (fw.version ? ' <span class="count">version ' + esc(fw.version) + '</span>' : '') +
      ' <span class="count">' + Math.round(fw.percent) + '% of automated controls pass</span>' +
      (fw.url && /^https?:\/\//i.test(fw.url) ? ' <a class="count" href="' + esc(fw.url) + '" target="_blank" rel="noopener noreferrer">source</a>' : '');
    var rows = fw.controls.filter(function (c) {
      if (!controlStatus) return true;
      if (controlStatus === 'not_applicable') return c[FWC.status] === 'not_applicable' || c[FWC.status] === 'unknown';
      return c[FWC.status] === controlStatus;
    });
    controlsTable.setItems(rows);
  }

  // ------------------------------------------------------------- changes
  function renderChanges() {
    var box = $('changes-body');
    if (!D.diff) {
      $('changes-note').textContent = '';
      box.innerHTML = '<p class="hint">This is the first evaluated scan of this account in the store, so there is nothing to compare with. The next scan will list what is new, resolved and still open.</p>';
      return;
    }
    var d = D.diff;
    $('changes-note').textContent = 'Compared with scan #' + d.previous_scan_id + ' of ' + when(d.previous_started_at) + ', by finding id (rule, account, region, resource).';
    box.innerHTML = '<div class="change-kpis">' +
      '<button type="button" class="change-kpi" data-filter-key="change" data-filter-value="new"><div class="v" style="color:var(--new)">' + fmt(d['new']) + '</div><div class="l">New alarms — show them in Findings</div></button>' +
      '<button type="button" class="change-kpi" data-goto="resolved"><div class="v" style="color:var(--pass)">' + fmt(d.resolved.length) + '</div><div class="l">Resolved — alarms of the previous scan that are gone</div></button>' +
      '<button type="button" class="change-kpi" data-filter-key="change" data-filter-value="open"><div class="v">' + fmt(d.open) + '</div><div class="l">Still open — with their first-seen dates</div></button></div>' +
      '<h3 id="resolved-h">Resolved since scan #' + d.previous_scan_id + ' <span class="count">' + fmt(d.resolved.length) + '</span></h3>' +
      '<div class="table-wrap"><table class="grid" id="resolved-table"></table></div><div class="pager" id="resolved-pager"></div>' +
      '<h3>Still open, oldest first <span class="count">' + fmt(d.open) + '</span></h3>' +
      '<div class="table-wrap"><table class="grid" id="open-table"></table></div><div class="pager" id="open-pager"></div>';
    var RC = columnsOf(d.resolved_columns);
    var ruleById = {};
    RULES.forEach(function (r) { ruleById[r.id] = r; });
    var resolved = Table({
      table: $('resolved-table'), pager: $('resolved-pager'), pageSize: 25,
      empty: 'Nothing was resolved since the previous scan.',
      columns: [
        { key: 'severity', label: 'Severity', desc: true, cls: 'nowrap', sort: function (r) { return SEVS.indexOf(r[RC.severity]); }, html: function (r) { return '<span class="sev sev-' + esc(r[RC.severity]) + '">' + esc(r[RC.severity]) + '</span>'; } },
        { key: 'rule', label: 'Was', sort: function (r) { return r[RC.rule]; }, html: function (r) {
          var rule = ruleById[r[RC.rule]];
          return '<span class="main">' + esc(rule ? rule.title : r[RC.rule]) + '</span><span class="reason">' + esc(r[RC.reason]) + '</span>';
        } },
        { key: 'resource', label: 'Resource', sort: function (r) { return r[RC.name] || r[RC.resource]; }, html: function (r) {
          return '<span class="main" title="' + esc(r[RC.resource]) + '">' + esc(r[RC.name] || r[RC.resource]) + '</span>' + (r[RC.name] ? '<span class="sub mono">' + esc(r[RC.resource]) + '</span>' : '');
        } },
        { key: 'region', label: 'Region', cls: 'nowrap', sort: function (r) { return S[r[RC.region]]; }, html: function (r) { return esc(S[r[RC.region]]); } },
        { key: 'account', label: 'Account', cls: 'nowrap', sort: function (r) { return S[r[RC.account]]; }, html: function (r) { return '<span class="mono">' + esc(S[r[RC.account]]) + '</span>'; } }
      ].filter(function (c) { return multiAccount || c.key !== 'account'; })
    });
    resolved.setItems(d.resolved.slice().sort(function (a, b) { return SEVS.indexOf(b[RC.severity]) - SEVS.indexOf(a[RC.severity]); }));
    var open = [];
    for (var k = 0; k < N; k++) if (changeOf(k) === 'open' && state[k] === 'alarm') open.push(k);
    open.sort(function (a, b) { var x = firstSeenOf(a), y = firstSeenOf(b); return x < y ? -1 : x > y ? 1 : sevRank[b] - sevRank[a]; });
    var openTable = Table({
      table: $('open-table'), pager: $('open-pager'), pageSize: 25, columns: findingColumns.filter(function (c) { return c.key !== 'status'; }),
      empty: 'No alarm of the previous scan is still open.',
      open: function (i, t) { openFinding(i, t); }
    });
    openTable.setItems(open);
  }

  // --------------------------------------------------------------- rules
  function renderRules() {
    var evaluated = RULES.filter(function (r) { var c = r.counts; return c.ok + c.alarm + c.skip + c.error + c.suppressed > 0; });
    $('rules-note').textContent = 'Results per rule. Passed results are embedded as these counts only, which keeps the page small for large scans. ' +
      fmt(RULES.length - evaluated.length) + ' of ' + fmt(RULES.length) + ' rules had nothing to evaluate (no resource of their type).';
    var t = Table({
      table: $('rules-table'), pager: $('rules-pager'), pageSize: 25,
      columns: [
        { key: 'severity', label: 'Severity', desc: true, cls: 'nowrap', sort: function (r) { return SEVS.indexOf(r.severity); }, html: function (r) { return '<span class="sev sev-' + esc(r.severity) + '">' + esc(r.severity) + '</span>'; } },
        { key: 'title', label: 'Rule', sort: function (r) { return r.title.toLowerCase(); }, html: function (r) { return '<span class="main">' + esc(r.title) + '</span><span class="sub mono">' + esc(r.id) + '</span>'; } },
        { key: 'service', label: 'Service', cls: 'nowrap', sort: function (r) { return r.service; }, html: function (r) { return esc(r.service); } },
        { key: 'alarm', label: 'Alarms', num: true, desc: true, sort: function (r) { return r.counts.alarm; }, html: function (r) { return r.counts.alarm ? '<b class="warn">' + fmt(r.counts.alarm) + '</b>' : '0'; } },
        { key: 'ok', label: 'Passed', num: true, desc: true, sort: function (r) { return r.counts.ok; }, html: function (r) { return fmt(r.counts.ok); } },
        { key: 'skip', label: 'Skipped', num: true, desc: true, sort: function (r) { return r.counts.skip; }, html: function (r) { return fmt(r.counts.skip); } },
        { key: 'error', label: 'Errors', num: true, desc: true, sort: function (r) { return r.counts.error; }, html: function (r) { return fmt(r.counts.error); } },
        { key: 'suppressed', label: 'Suppressed', num: true, desc: true, sort: function (r) { return r.counts.suppressed; }, html: function (r) { return fmt(r.counts.suppressed); } },
        { key: 'rate', label: 'Pass rate', desc: true, sort: rate, html: function (r) {
          var v = rate(r);
          if (v < 0) return '<span class="hint">—</span>';
          return '<span class="pct-cell"><span class="bar-track"><span style="width:' + v.toFixed(1) + '%;background:' + (v >= 100 ? 'var(--pass)' : v >= 50 ? 'var(--sev-medium)' : 'var(--fail)') + '"></span></span><span class="tabular">' + Math.round(v) + '%</span></span>';
        } }
      ],
      open: function (r) { openRule(r); }
    });
    function rate(r) { var n = r.counts.ok + r.counts.alarm; return n ? 100 * r.counts.ok / n : -1; }
    t.sortKey = 'alarm';
    t.sortDir = -1;
    t.setItems(evaluated);
  }
  function openRule(rule) {
    var rem = rule.remediation || {};
    var body = '<div class="detail-tags"><span class="sev sev-' + esc(rule.severity) + '">' + esc(rule.severity) + '</span><span class="rule-id">' + esc(rule.id) + '</span></div>' +
      '<p class="detail-desc">' + esc(rule.description) + '</p>' + ruleCountsHtml(rule) +
      '<p><button type="button" class="btn small" data-filter-rule="' + esc(rule.id) + '">Show its results in Findings</button></p>' +
      section('Remediation', tabs('rrem', [
        ['console', 'Console', rem.console ? '<p class="steps">' + esc(rem.console.trim()) + '</p>' : ''],
        ['cli', 'CLI template', rem.cli ? codeBlock(rem.cli.trim(), 'Copy', true) : ''],
        ['terraform', 'Terraform', rem.terraform ? codeBlock(rem.terraform.trim(), 'Copy') : ''],
        ['cloudformation', 'CloudFormation', rem.cloudformation ? codeBlock(rem.cloudformation.trim(), 'Copy') : '']
      ]) + (rem.prevent ? '<h3>How to prevent</h3><p class="steps">' + esc(rem.prevent.trim()) + '</p>' : '')) +
      complianceHtml(rule) + referencesHtml(rule);
    openDrawer(rule.title, body, { kind: 'rule', item: rule, table: null });
  }

  // -------------------------------------------------------------- threats
  function renderThreats() {
    if (!D.alerts.length) return;
    $('threats').hidden = false;
    var AC = columnsOf(D.alert_columns);
    var run = D.threat_run;
    $('threats-note').textContent = plural(D.alerts.length, 'alert') + ' from Sigma rules over CloudTrail' +
      (run ? ' (threat run #' + run.id + ', ' + fmt(run.records) + ' records' + (run.since || run.until ? ', ' + (day(run.since) || '…') + ' to ' + (day(run.until) || '…') : '') + (run.malformed ? ', ' + fmt(run.malformed) + ' malformed' : '') + ')' : '') + '.';
    var t = Table({
      table: $('alerts-table'), pager: $('alerts-pager'), pageSize: 25,
      columns: [
        { key: 'time', label: 'Time', cls: 'nowrap', sort: function (a) { return a[AC.time]; }, html: function (a) { return '<span class="tabular">' + esc(when(a[AC.time])) + '</span>'; } },
        { key: 'level', label: 'Level', desc: true, cls: 'nowrap', sort: function (a) { return a[AC.level]; }, html: function (a) { var s = SEVS[a[AC.level]]; return '<span class="sev sev-' + s + '">' + s + '</span>' + (a[AC.suppression] >= 0 ? ' <span class="badge suppressed">Suppressed</span>' : ''); } },
        { key: 'rule', label: 'Rule', sort: function (a) { return a[AC.title] || a[AC.rule]; }, html: function (a) { return '<span class="main">' + esc(a[AC.title] || a[AC.rule]) + '</span><span class="sub mono">' + esc(a[AC.rule]) + '</span>'; } },
        { key: 'principal', label: 'Principal', sort: function (a) { return a[AC.principal]; }, html: function (a) { return '<span class="main mono" style="font-weight:400" title="' + esc(a[AC.principal]) + '">' + esc(a[AC.principal]) + '</span>'; } },
        { key: 'event', label: 'Event', sort: function (a) { return a[AC.event]; }, html: function (a) { return esc(a[AC.event]) + '<span class="sub">' + esc(a[AC.event_source]) + '</span>'; } },
        { key: 'ip', label: 'Source IP', cls: 'nowrap', sort: function (a) { return a[AC.source_ip]; }, html: function (a) { return '<span class="mono">' + esc(a[AC.source_ip]) + '</span>'; } },
        { key: 'region', label: 'Region', cls: 'nowrap', sort: function (a) { return S[a[AC.region]]; }, html: function (a) { return esc(S[a[AC.region]]); } }
      ],
      open: function (a, table) { openAlert(a, table); }
    });
    function openAlert(a, table) {
      var s = SEVS[a[AC.level]];
      var sup = a[AC.suppression] >= 0 ? D.suppressions[a[AC.suppression]] : null;
      var body = '<div class="detail-tags"><span class="sev sev-' + s + '">' + s + '</span>' + (sup ? '<span class="badge suppressed">Suppressed</span>' : '') +
        '<span class="rule-id">' + esc(a[AC.rule]) + '</span></div>' +
        kv([['Time', esc(when(a[AC.time]))], ['Event', esc(a[AC.event]) + ' <span class="hint">' + esc(a[AC.event_source]) + '</span>'],
            ['Principal', '<span class="mono">' + esc(a[AC.principal]) + '</span>'], ['Source IP', '<span class="mono">' + esc(a[AC.source_ip]) + '</span>'],
            ['User agent', esc(a[AC.user_agent])], ['Account', '<span class="mono">' + esc(S[a[AC.account]]) + '</span>'], ['Region', esc(S[a[AC.region]])],
            ['Tags', (a[AC.tags] || []).map(function (x) { return '<span class="ctrl">' + esc(x) + '</span>'; }).join('')], ['Read from', '<span class="mono">' + esc(a[AC.source]) + '</span>']]) +
        (sup ? section('Suppression', '<div class="supp">' + kv([['Reason', esc(sup.reason)], ['Owner', esc(sup.owner)], ['Expires', esc(sup.expires || 'never')]]) + '</div>') : '') +
        section('CloudTrail record', codeBlock(pretty(a[AC.record]), 'Copy'));
      openDrawer(a[AC.title] || a[AC.rule], body, { kind: 'alert', item: a, table: table, open: openAlert });
    }
    t.setItems(D.alerts.slice().sort(function (x, y) { return x[AC.time] < y[AC.time] ? 1 : x[AC.time] > y[AC.time] ? -1 : 0; }));
  }

  // ----------------------------------------------------------- collection
  function renderCollection() {
    var GC = columnsOf(D.gap_columns), AC = columnsOf(D.api_call_columns);
    $('gaps-count').textContent = fmt(D.gaps.length);
    Table({
      table: $('gaps-table'), pager: $('gaps-pager'), pageSize: 25,
      empty: 'None: every listing and enrichment call succeeded.',
      columns: [
        { key: 'service', label: 'Service', cls: 'nowrap', sort: function (g) { return g[GC.service]; }, html: function (g) { return esc(g[GC.service]); } },
        { key: 'operation', label: 'Operation', sort: function (g) { return g[GC.operation]; }, html: function (g) { return '<span class="mono">' + esc(g[GC.operation]) + '</span><span class="sub">' + esc(g[GC.type]) + '</span>'; } },
        { key: 'region', label: 'Region', cls: 'nowrap', sort: function (g) { return g[GC.region]; }, html: function (g) { return esc(g[GC.region]); } },
        { key: 'resource', label: 'Resource', sort: function (g) { return g[GC.resource]; }, html: function (g) { return g[GC.resource] ? '<span class="sub mono" style="color:inherit">' + esc(g[GC.resource]) + '</span>' : '<span class="hint">whole listing</span>'; } },
        { key: 'error', label: 'Why', sort: function (g) { return g[GC.error_code]; }, html: function (g) { return '<b>' + esc(g[GC.error_code]) + '</b><span class="reason">' + esc(g[GC.message]) + '</span>'; } }
      ]
    }).setItems(D.gaps);
    var calls = 0, errors = 0, ms = 0;
    D.api_calls.forEach(function (c) { calls += c[AC.calls]; errors += c[AC.errors]; ms += c[AC.elapsed_ms]; });
    $('api-count').textContent = plural(calls, 'call') + ', ' + plural(errors, 'error') + ', ' + (ms / 1000).toFixed(1) + ' s in total';
    var t = Table({
      table: $('api-table'), pager: $('api-pager'), pageSize: 25,
      empty: 'No API call statistics were recorded for this scan.',
      columns: [
        { key: 'service', label: 'Service', cls: 'nowrap', sort: function (c) { return c[AC.service]; }, html: function (c) { return esc(c[AC.service]); } },
        { key: 'operation', label: 'Operation', sort: function (c) { return c[AC.operation]; }, html: function (c) { return '<span class="mono">' + esc(c[AC.operation]) + '</span>'; } },
        { key: 'region', label: 'Region', cls: 'nowrap', sort: function (c) { return c[AC.region]; }, html: function (c) { return esc(c[AC.region]); } },
        { key: 'calls', label: 'Calls', num: true, desc: true, sort: function (c) { return c[AC.calls]; }, html: function (c) { return fmt(c[AC.calls]); } },
        { key: 'errors', label: 'Errors', num: true, desc: true, sort: function (c) { return c[AC.errors]; }, html: function (c) { return c[AC.errors] ? '<b class="warn">' + fmt(c[AC.errors]) + '</b>' : '0'; } },
        { key: 'ms', label: 'Time (ms)', num: true, desc: true, sort: function (c) { return c[AC.elapsed_ms]; }, html: function (c) { return fmt(c[AC.elapsed_ms]); } }
      ]
    });
    t.sortKey = 'calls';
    t.sortDir = -1;
    t.setItems(D.api_calls);
  }

  // -------------------------------------------------------------- events
  function wire() {
    var searchTimer = null;
    $('search').addEventListener('input', function (e) {
      clearTimeout(searchTimer);
      var v = e.target.value;
      searchTimer = setTimeout(function () { query = v.trim(); applyFilters(); }, N > 5000 ? 200 : 60);
    });
    $('search').addEventListener('keydown', function (e) {
      if (e.key === 'Enter') { clearTimeout(searchTimer); query = e.target.value.trim(); applyFilters(); }
    });
    $('filter-selects').addEventListener('change', function (e) {
      var key = e.target.getAttribute('data-filter-select');
      if (!key) return;
      if (e.target.value) filters.set(key, e.target.value); else filters.delete(key);
      applyFilters();
    });
    $('chips').addEventListener('click', function (e) {
      var rm = e.target.closest('[data-remove]');
      if (rm) {
        var k = rm.getAttribute('data-remove');
        if (k === 'search') { query = ''; $('search').value = ''; } else filters.delete(k);
        applyFilters();
        return;
      }
      if (e.target.id === 'clear-filters') { filters.clear(); query = ''; $('search').value = ''; applyFilters(); }
      if (e.target.id === 'default-view') { filters = new Map(DEFAULT_FILTERS); query = ''; $('search').value = ''; applyFilters(); }
    });
    function activate(el, e) {
      var fk = el.getAttribute('data-filter-key');
      if (fk) {
        setFilter(fk, el.getAttribute('data-filter-value'), true);
        if (!el.closest('#findings')) revealFindings();
        return true;
      }
      if (el.hasAttribute('data-fw-status')) {
        var fwId = el.getAttribute('data-fw'), st = el.getAttribute('data-fw-status');
        if (st === 'fail') {
          filters.clear();
          filters.set('framework', fwId);
          filters.set('status', 'alarm');
          applyFilters();
          revealFindings();
        } else {
          showFramework(fwId, st === 'not_applicable' ? 'not_applicable' : st);
          $('compliance').scrollIntoView({ block: 'start' });
        }
        return true;
      }
      if (el.hasAttribute('data-fw-card')) {
        var id = el.getAttribute('data-fw-card');
        if (activeFw === id && !$('fw-detail').hidden) { $('fw-detail').hidden = true; el.classList.remove('active'); el.setAttribute('aria-pressed', 'false'); activeFw = null; }
        else showFramework(id, '');
        return true;
      }
      if (el.hasAttribute('data-ctl-status')) { showFramework(activeFw, el.getAttribute('data-ctl-status')); return true; }
      if (el.getAttribute('data-goto') === 'resolved') { var h = $('resolved-h'); if (h) h.scrollIntoView({ block: 'start' }); return true; }
      if (el.hasAttribute('data-filter-rule')) {
        closeDrawer();
        filters.clear();
        filters.set('rule', el.getAttribute('data-filter-rule'));
        query = '';
        $('search').value = '';
        applyFilters();
        $('findings').scrollIntoView({ block: 'start' });
        return true;
      }
      if (el.hasAttribute('data-copy')) { copyText(el.parentNode.querySelector('pre').textContent); return true; }
      if (el.getAttribute('role') === 'tab') { selectTab(el); return true; }
      return false;
    }
    var ACTIONS = '[data-filter-key],[data-fw-status],[data-fw-card],[data-ctl-status],[data-goto],[data-filter-rule],[data-copy],[role="tab"]';
    document.addEventListener('click', function (e) {
      var el = e.target.closest(ACTIONS);
      if (el && !el.disabled) activate(el, e);
    });
    document.addEventListener('keydown', function (e) {
      if (drawerCtx) {
        if (e.key === 'Escape') { e.preventDefault(); closeDrawer(); return; }
        if (e.target.closest && e.target.closest('input,select,textarea')) return;
        if (e.key === 'j') { stepDrawer(1); return; }
        if (e.key === 'k') { stepDrawer(-1); return; }
        if (e.key === 'Tab') {
          // Keep focus inside the open dialog.
          var focusables = $('drawer').querySelectorAll('button:not([disabled]),a[href],[tabindex="0"]');
          if (!focusables.length) return;
          var first = focusables[0], last = focusables[focusables.length - 1];
          if (e.shiftKey && (document.activeElement === first || document.activeElement === $('drawer'))) { e.preventDefault(); last.focus(); }
          else if (!e.shiftKey && document.activeElement === last) { e.preventDefault(); first.focus(); }
        }
      }
      // SVG segments are not buttons: Enter and Space activate them.
      if ((e.key === 'Enter' || e.key === ' ') && e.target.closest && e.target.closest('svg .seg')) {
        e.preventDefault();
        activate(e.target.closest('svg .seg'), e);
      }
      if (e.key === '/' && !drawerCtx && !(e.target.closest && e.target.closest('input,select,textarea'))) {
        e.preventDefault();
        $('search').focus();
      }
      if (e.target.getAttribute && e.target.getAttribute('role') === 'tab' && (e.key === 'ArrowRight' || e.key === 'ArrowLeft')) {
        var sib = e.key === 'ArrowRight' ? e.target.nextElementSibling : e.target.previousElementSibling;
        if (sib) { selectTab(sib); sib.focus(); }
      }
    });
    $('drawer-close').addEventListener('click', closeDrawer);
    $('backdrop').addEventListener('click', closeDrawer);
    $('drawer-prev').addEventListener('click', function () { stepDrawer(-1); });
    $('drawer-next').addEventListener('click', function () { stepDrawer(1); });
  }

  function renderFooter() {
    $('footer').textContent = 'Generated by cloudaudit ' + (D.tool_version || '') + ' on ' + when(D.generated_at) +
      '. A read-only assessment: nothing in the account was changed. This file is self-contained and loads nothing from the network.';
  }

  renderHeader();
  renderCharts();
  renderSelects();
  renderFindingsNote();
  wire();
  applyFilters();
  renderCompliance();
  renderChanges();
  renderRules();
  renderThreats();
  renderCollection();
  renderFooter();
  timing.renderMs = performance.now() - t0 - parseMs;
  // The search index of a large report is built while the page is idle, so
  // that the first search is as fast as the next ones.
  if (N > 2000 && window.requestIdleCallback) {
    requestIdleCallback(function () { if (!haystack) buildHaystack(); }, { timeout: 3000 });
  }
  // Read by the end-to-end test and the size/speed measurement.
  window.cloudauditReport = timing;
  document.body.setAttribute('data-ready', 'true');
})();
