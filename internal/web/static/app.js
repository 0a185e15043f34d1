// Skillvault: progressive enhancement only. Every page works without it.
(function () {
  'use strict';
  document.documentElement.classList.add('js');

  // Copy buttons next to commands.
  document.querySelectorAll('.js-copy').forEach(function (b) {
    b.hidden = false;
    b.addEventListener('click', function () {
      var code = b.parentNode.querySelector('code');
      if (!code || !navigator.clipboard) return;
      navigator.clipboard.writeText(code.textContent).then(function () {
        b.textContent = 'Copied';
        setTimeout(function () { b.textContent = 'Copy'; }, 1500);
      });
    });
  });

  // Install box: show the command of the chosen agent.
  var agent = document.querySelector('.js-agent');
  if (agent) {
    var show = function () {
      document.querySelectorAll('.cmd-row').forEach(function (r) {
        r.classList.toggle('on', r.dataset.agent === agent.value);
      });
    };
    agent.addEventListener('change', show);
    show();
  }

  // Keyboard: "/" focuses the search box; j and k move through results.
  document.addEventListener('keydown', function (e) {
    var t = e.target;
    if (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '/') {
      var q = document.getElementById('sq') || document.getElementById('q') || document.getElementById('top-q');
      if (q) { e.preventDefault(); q.focus(); q.select(); }
      return;
    }
    if (e.key !== 'j' && e.key !== 'k') return;
    var links = Array.prototype.slice.call(document.querySelectorAll('[data-keynav] .result-title'));
    if (!links.length) return;
    var i = links.indexOf(document.activeElement);
    i = e.key === 'j' ? Math.min(i + 1, links.length - 1) : Math.max(i - 1, 0);
    links[i].focus();
    e.preventDefault();
  });

  // Publish: say what was chosen, and accept a dragged folder or archive.
  var form = document.querySelector('[data-upload]');
  if (!form) return;
  var chosen = form.querySelector('[data-chosen]');
  var zip = form.querySelector('#bundle'), folder = form.querySelector('#folder');
  zip.addEventListener('change', function () {
    if (zip.files.length) { folder.value = ''; chosen.textContent = 'Chosen: ' + zip.files[0].name; }
  });
  folder.addEventListener('change', function () {
    if (folder.files.length) { zip.value = ''; var n = folder.files.length; chosen.textContent = 'Chosen: a folder with ' + n + (n === 1 ? ' file' : ' files'); }
  });

  var drop = form.querySelector('[data-drop]');
  ['dragenter', 'dragover'].forEach(function (ev) {
    drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add('over'); });
  });
  ['dragleave', 'drop'].forEach(function (ev) {
    drop.addEventListener(ev, function () { drop.classList.remove('over'); });
  });

  function readEntry(entry, path, out) {
    return new Promise(function (resolve, reject) {
      if (entry.isFile) {
        entry.file(function (f) { out.push({ file: f, path: path + f.name }); resolve(); }, reject);
        return;
      }
      var reader = entry.createReader(), all = [];
      (function more() {
        reader.readEntries(function (batch) {
          if (!batch.length) {
            Promise.all(all.map(function (c) { return readEntry(c, path + entry.name + '/', out); })).then(resolve, reject);
            return;
          }
          all = all.concat(Array.prototype.slice.call(batch));
          more();
        }, reject);
      })();
    });
  }

  drop.addEventListener('drop', function (e) {
    e.preventDefault();
    var items = e.dataTransfer.items, files = [], jobs = [];
    for (var i = 0; items && i < items.length; i++) {
      var en = items[i].webkitGetAsEntry && items[i].webkitGetAsEntry();
      if (en) jobs.push(readEntry(en, '', files));
    }
    Promise.all(jobs).then(function () {
      if (!files.length) return;
      // The CSRF token is the first part: the server reads it before the files.
      var csrf = form.querySelector('[name=csrf]').value, fd = new FormData();
      fd.append('csrf', csrf);
      form.querySelectorAll('input[type=hidden], input:not([type=file]), select').forEach(function (el) {
        if (el.name && el.name !== 'csrf' && (el.type !== 'checkbox' || el.checked)) fd.append(el.name, el.value);
      });
      var single = files.length === 1 && /\.(zip|tgz|tar\.gz)$/i.test(files[0].path);
      files.forEach(function (f) { fd.append(single ? 'bundle' : 'files', f.file, f.path); });
      chosen.textContent = 'Uploading ' + files.length + ' files…';
      return fetch(form.action, { method: 'POST', body: fd, credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf } })
        .then(function (res) {
          if (res.redirected) { location.href = res.url; return; }
          return res.text().then(function (html) {
            var doc = new DOMParser().parseFromString(html, 'text/html');
            var main = doc.querySelector('main');
            if (main) { document.querySelector('main').replaceWith(main); }
            var p = document.getElementById('problems');
            if (p) p.focus();
          });
        });
    }).catch(function (err) { chosen.textContent = 'Upload failed: ' + err; });
  });
})();
