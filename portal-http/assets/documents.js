// The upload script of document upload tasks and secure file drops, served as
// /assets/documents.js and loaded by a tag carrying the page's CSP nonce (the policy
// runs no other script). The page works without it: every document has a plain form
// with a file input and an Upload button, a file drop a form whose input takes
// several files at once and a "Drop files" button (one request, every file in it).
//
// With it:
// - each document's upload area is also a drop zone, and a file chosen or dropped
//   there is uploaded straight away;
// - "Upload several files at once" (shown only with this script, and only when more
//   than one document can take a file) sends several files, in the order given, to
//   the documents still waiting for one;
// - every file gets a progress bar while it is sent (XMLHttpRequest: fetch reports
//   no upload progress);
// - when the uploads are done, the task part of the page is fetched again and swapped
//   in, so the statuses read "Uploaded" without a reload; a refused file's reason
//   stays shown at its document. Everything is also said in a polite live region;
// - a secure file drop's area takes files dropped on it (several at once) and sends
//   chosen or dropped files straight away, one request each with its own progress
//   bar, through the same helpers; a refused file shows the portal's answer.
'use strict';

(() => {
  const announcer = document.getElementById('upload-announcer');
  let busy = false;

  // The words, in the page's language: the page hands the catalog's messages over in
  // a JSON block (portal_core::i18n::Texts::script_texts) with {name} slots.
  const texts = (() => {
    try {
      return JSON.parse(document.getElementById('portal-texts')?.textContent || '{}');
    } catch {
      return {};
    }
  })();
  const lang = document.documentElement.lang || 'en';
  function t(key, args = {}) {
    return (texts[key] || key).replace(/\{([a-z]+)\}/g, (slot, name) => (name in args ? String(args[name]) : slot));
  }

  function say(text) {
    if (!announcer || !text) return;
    // Emptied first, so the same words twice are announced twice.
    announcer.textContent = '';
    window.setTimeout(() => {
      announcer.textContent = text;
    }, 100);
  }

  // A size as the page writes it (binary units, like portal_core::wording::bytes_in),
  // with the language's decimal mark.
  function size(n) {
    if (n < 1024) return n === 1 ? t('js-byte') : t('js-bytes', { count: n.toLocaleString(lang) });
    const units = ['KB', 'MB', 'GB', 'TB'];
    let v = n / 1024;
    let u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u += 1;
    }
    const whole = v >= 10 || Math.round((v % 1) * 10) === 0;
    const digits = whole ? 0 : 1;
    return `${v.toLocaleString(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits, useGrouping: false })} ${units[u]}`;
  }

  const hasFiles = (e) => Boolean(e.dataTransfer) && Array.from(e.dataTransfer.types || []).includes('Files');

  // Makes `el` take dropped files; `onFiles` gets them as an array.
  function dropTarget(el, onFiles) {
    let depth = 0;
    el.addEventListener('dragenter', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth += 1;
      el.classList.add('over');
    });
    el.addEventListener('dragover', (e) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      e.stopPropagation();
      e.dataTransfer.dropEffect = 'copy';
    });
    el.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) el.classList.remove('over');
    });
    el.addEventListener('drop', (e) => {
      e.preventDefault();
      e.stopPropagation();
      depth = 0;
      el.classList.remove('over');
      const files = Array.from((e.dataTransfer && e.dataTransfer.files) || []);
      if (files.length > 0) onFiles(files);
    });
    // A click anywhere in the area (not only on the input) opens the file chooser.
    const input = el.querySelector('input[type=file]');
    el.addEventListener('click', (e) => {
      if (input && !e.target.closest('input, label, a, button')) input.click();
    });
  }

  function docName(form) {
    return form.dataset.document || 'this document';
  }

  // Shows why a file was not uploaded, at its document.
  function showError(anchor, message) {
    const item = document.getElementById(anchor);
    const form = item && item.querySelector('form[data-upload]');
    if (!form) {
      showNote(message);
      return;
    }
    let p = form.querySelector('.field-error');
    if (!p) {
      p = document.createElement('p');
      p.className = 'field-error';
      p.id = `${anchor}-error`;
      form.querySelector('.dropzone').after(p);
    }
    p.textContent = message;
    const input = form.querySelector('input[type=file]');
    const described = (input.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
    if (!described.includes(p.id)) described.push(p.id);
    input.setAttribute('aria-describedby', described.join(' '));
    input.setAttribute('aria-invalid', 'true');
  }

  // A message about several files at once, at the top of the documents.
  function showNote(message) {
    const section = document.querySelector('.documents-task');
    if (!section || !message) return;
    let p = section.querySelector('.upload-note');
    if (!p) {
      p = document.createElement('p');
      p.className = 'alert upload-note';
      section.querySelector('h2').after(p);
    }
    p.textContent = message;
  }

  function progressRow(form, file) {
    const rows = form.querySelector('.upload-rows');
    const row = document.createElement('div');
    row.className = 'upload-row';
    const name = document.createElement('span');
    name.className = 'file-name';
    name.textContent = file.name;
    const bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute('aria-label', t('js-upload-of', { name: file.name }));
    const state = document.createElement('span');
    state.className = 'hint';
    state.textContent = t('js-state-waiting');
    row.append(name, bar, state);
    rows.append(row);
    return { bar, state };
  }

  // Sends one file; resolves with { ok, message }, never rejects.
  async function send(form, file, ui) {
    const doc = docName(form);
    const limit = Number(form.dataset.maxBytes || 0);
    if (limit > 0 && file.size > limit) {
      return {
        ok: false,
        message: t('js-too-large-doc', { name: file.name, size: size(file.size), limit: form.dataset.limit, doc }),
      };
    }
    const answer = await post(form, file, ui, { Accept: 'application/json' });
    if (!answer) {
      return {
        ok: false,
        message: t('js-connection-doc', { name: file.name, doc }),
      };
    }
    let body = null;
    try {
      body = JSON.parse(answer.text);
    } catch {
      body = null;
    }
    if (answer.status >= 200 && answer.status < 300) {
      const flagged = body && body.status === 'rejected';
      return {
        ok: true,
        message: flagged
          ? t('js-flagged', { name: file.name, doc })
          : t('js-uploaded-doc', { name: file.name, doc }),
      };
    }
    const detail = body && body.detail ? body.detail : t('js-upload-failed', { status: answer.status });
    return { ok: false, message: t('js-not-uploaded-doc', { name: file.name, doc, detail }) };
  }

  // Posts `file` with the form's CSRF token (field and header) to the form's address,
  // showing its progress in `ui`; resolves with { status, text }, or null when the
  // connection dropped. Never rejects.
  function post(form, file, ui, headers) {
    const token = form.querySelector('input[name=csrf]').value;
    const data = new FormData();
    data.append('csrf', token);
    data.append('file', file, file.name);
    return new Promise((resolve) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      xhr.setRequestHeader('X-CSRF-Token', token);
      xhr.upload.addEventListener('progress', (e) => {
        if (!e.lengthComputable || e.total === 0) return;
        const percent = Math.floor((e.loaded * 100) / e.total);
        ui.bar.value = percent;
        ui.state.textContent = `${percent}%`;
      });
      xhr.addEventListener('load', () => resolve({ status: xhr.status, text: xhr.responseText }));
      xhr.addEventListener('error', () => resolve(null));
      xhr.addEventListener('abort', () => resolve(null));
      xhr.send(data);
    });
  }

  // Sends one file to a secure file drop; resolves with { ok, message, page }, where
  // `page` is the task page the portal answered a refusal with (it says why).
  async function sendDrop(form, file, ui) {
    const limit = Number(form.dataset.maxBytes || 0);
    if (limit > 0 && file.size > limit) {
      return {
        ok: false,
        message: t('js-too-large-drop', { name: file.name, size: size(file.size), limit: form.dataset.limit }),
      };
    }
    const answer = await post(form, file, ui, { Accept: 'text/html' });
    if (!answer) {
      return {
        ok: false,
        message: t('js-connection-drop', { name: file.name }),
      };
    }
    if (answer.status >= 200 && answer.status < 300) {
      return { ok: true, message: t('js-dropped', { name: file.name }) };
    }
    return { ok: false, message: t('js-not-dropped', { name: file.name }), page: answer.text };
  }

  // The task part (its <article>) of a task page's HTML, or null.
  function taskPart(html) {
    // Only the task's <article>: parsing the whole page would also parse its <style>,
    // whose nonce (new for every response) the CSP of this page refuses.
    const start = html.indexOf('<article');
    const end = html.indexOf('</article>');
    if (start < 0 || end <= start) return null;
    const holder = document.createElement('div');
    holder.innerHTML = html.slice(start, end + '</article>'.length);
    return holder.querySelector('.task-page');
  }

  // Swaps `fresh` (a task part) in for the page's, keeping the focus where it was.
  function swapIn(fresh, address) {
    const focused = document.activeElement && document.activeElement.id;
    const old = document.querySelector('.task-page');
    if (!fresh || !old) {
      window.location.assign(address);
      return;
    }
    old.replaceWith(fresh);
    setUp(fresh);
    const again = focused && document.getElementById(focused);
    if (again) {
      again.focus();
    } else if (focused) {
      const heading = document.getElementById('documents-title') || document.getElementById('drops-title');
      if (heading) {
        heading.setAttribute('tabindex', '-1');
        heading.focus();
      }
    }
  }

  // The task page's own address: this page may be the answer to a form post.
  function taskAddress() {
    const section = document.querySelector('[data-task-page]');
    return section ? section.dataset.taskPage : window.location.pathname;
  }

  // Fetches the task page again and swaps its task part in (statuses, files, forms).
  async function refresh() {
    const address = taskAddress();
    let fresh = null;
    try {
      const res = await fetch(address, {
        headers: { Accept: 'text/html' },
        credentials: 'same-origin',
        cache: 'no-store',
      });
      if (res.ok) fresh = taskPart(await res.text());
    } catch {
      fresh = null;
    }
    swapIn(fresh, address);
  }

  // Uploads `pairs` ([form, file]) one after another, then shows the new statuses.
  async function uploadAll(pairs, note) {
    if (busy) {
      say(t('js-wait-uploading'));
      return;
    }
    if (pairs.length === 0) {
      showNote(note);
      say(note);
      return;
    }
    busy = true;
    const rows = pairs.map(([form, file]) => progressRow(form, file));
    say(pairs.length === 1 ? t('js-uploading-one', { name: pairs[0][1].name }) : t('js-uploading-many', { count: pairs.length }));
    const results = [];
    for (let i = 0; i < pairs.length; i += 1) {
      const [form, file] = pairs[i];
      rows[i].state.textContent = t('js-state-uploading');
      const result = await send(form, file, rows[i]);
      rows[i].state.textContent = t(result.ok ? 'js-state-uploaded' : 'js-state-not-uploaded');
      if (result.ok) rows[i].bar.value = 100;
      results.push({ anchor: form.closest('.doc').id, ...result });
    }
    busy = false;
    if (results.some((r) => r.ok)) await refresh();
    for (const r of results.filter((x) => !x.ok)) showError(r.anchor, r.message);
    if (note) showNote(note);
    say([...results.map((r) => r.message), note].filter(Boolean).join(' '));
  }

  // Several files at once: in order, to the documents still waiting for a file.
  function distribute(files) {
    const waiting = Array.from(document.querySelectorAll('form[data-upload][data-waiting]'));
    const pairs = files.slice(0, waiting.length).map((file, i) => [waiting[i], file]);
    const extra = files.slice(waiting.length);
    let note = null;
    if (waiting.length === 0) {
      note = t('js-all-waiting');
    } else if (extra.length > 0) {
      const names = extra.map((f) => f.name).join(', ');
      note = extra.length === 1 ? t('js-extra-one', { names }) : t('js-extra-many', { count: extra.length, names });
    }
    uploadAll(pairs, note);
  }

  // Drops `files` on a secure file drop, one request per file (each with its own
  // progress bar), then shows the task again: the page the portal answered a refused
  // file with (it says why), or the task fetched again.
  async function uploadDrops(form, files) {
    if (busy) {
      say(t('js-wait-sending'));
      return;
    }
    busy = true;
    const rows = files.map((file) => progressRow(form, file));
    say(files.length === 1 ? t('js-dropping-one', { name: files[0].name }) : t('js-dropping-many', { count: files.length }));
    const results = [];
    let refusal = null;
    for (let i = 0; i < files.length; i += 1) {
      rows[i].state.textContent = t('js-state-sending');
      const result = await sendDrop(form, files[i], rows[i]);
      rows[i].state.textContent = t(result.ok ? 'js-state-dropped' : 'js-state-not-dropped');
      if (result.ok) rows[i].bar.value = 100;
      if (result.page) refusal = result.page;
      results.push(result);
    }
    busy = false;
    if (refusal) {
      swapIn(taskPart(refusal), taskAddress());
    } else if (results.some((r) => r.ok)) {
      await refresh();
    }
    const local = results.filter((r) => !r.ok && !r.page).map((r) => r.message);
    if (local.length > 0) {
      const section = document.querySelector('.drops-task');
      const p = document.createElement('p');
      p.className = 'alert upload-note';
      p.textContent = local.join(' ');
      if (section) section.querySelector('h2').after(p);
    }
    say(results.map((r) => r.message).join(' '));
  }

  function setUp(root) {
    for (const form of root.querySelectorAll('form[data-drop-files]')) {
      form.classList.add('js-upload');
      const input = form.querySelector('input[type=file]');
      const zone = form.querySelector('.dropzone');
      const hint = zone.querySelector('.dropzone-hint');
      if (hint) hint.hidden = false;
      const take = () => {
        const files = Array.from(input.files || []);
        input.value = '';
        if (files.length > 0) uploadDrops(form, files);
      };
      input.addEventListener('change', take);
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        take();
      });
      dropTarget(zone, (files) => uploadDrops(form, files));
    }
    for (const form of root.querySelectorAll('form[data-upload]')) {
      form.classList.add('js-upload');
      const input = form.querySelector('input[type=file]');
      const zone = form.querySelector('.dropzone');
      const hint = zone.querySelector('.dropzone-hint');
      if (hint) hint.hidden = false;
      input.addEventListener('change', () => {
        const file = input.files && input.files[0];
        input.value = '';
        if (file) uploadAll([[form, file]]);
      });
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const file = input.files && input.files[0];
        if (file) uploadAll([[form, file]]);
      });
      dropTarget(zone, (files) => {
        if (files.length === 1) {
          uploadAll([[form, files[0]]]);
          return;
        }
        const several = Boolean(document.querySelector('[data-drop-all]'));
        const message = t(several ? 'js-one-file-several' : 'js-one-file', { doc: docName(form) });
        showError(form.closest('.doc').id, message);
        say(message);
      });
    }
    const all = root.querySelector('[data-drop-all]');
    if (all) {
      all.hidden = false;
      const input = all.querySelector('input[type=file]');
      input.addEventListener('change', () => {
        const files = Array.from(input.files || []);
        input.value = '';
        if (files.length > 0) distribute(files);
      });
      dropTarget(all, distribute);
    }
  }

  // A file dropped beside the drop zones would make the browser open it and leave
  // the portal: refuse such drops.
  window.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'none';
  });
  window.addEventListener('drop', (e) => {
    if (hasFiles(e)) e.preventDefault();
  });

  setUp(document);
})();

// The password show/hide toggle of the credential handoff form. Without this script
// the button stays hidden and the field a plain password input. With it, the button
// (a real <button>: Tab reaches it, Enter and Space press it) switches the field it
// controls between hidden and shown text, says which in aria-pressed, and keeps its
// label ("Show password"), as a toggle button should. The field goes back to hidden
// before the form is sent, so no browser keeps the value as plain text in its
// form history.
(() => {
  document.querySelectorAll('button[data-password-toggle]').forEach((button) => {
    const field = document.getElementById(button.getAttribute('aria-controls') || '');
    if (!field || field.tagName !== 'INPUT') return;
    button.hidden = false;
    button.addEventListener('click', () => {
      const show = field.type === 'password';
      field.type = show ? 'text' : 'password';
      button.setAttribute('aria-pressed', show ? 'true' : 'false');
    });
    if (field.form) {
      field.form.addEventListener('submit', () => {
        field.type = 'password';
        button.setAttribute('aria-pressed', 'false');
      });
    }
  });
})();

// The signature pad of a signature task. Without this script the pad stays hidden and
// the typed name is the signature (the form works as is). With it, the canvas takes
// pointer events (mouse, touch and pen alike; touch-action: none keeps a finger from
// scrolling the page), "Clear" empties it, and on submit a drawing is sent as a PNG
// data URL in the hidden "drawn" field; with nothing drawn the typed name is sent.
(() => {
  document.querySelectorAll('[data-signature-pad]').forEach((pad) => {
    const canvas = pad.querySelector('canvas');
    const field = pad.querySelector('input[name=drawn]');
    const clear = pad.querySelector('button[data-signature-clear]');
    const form = pad.closest('form');
    if (!canvas || !field || !form || !canvas.getContext) return;
    pad.hidden = false;
    const ctx = canvas.getContext('2d');
    let drawn = false;
    let last = null;
    const size = () => {
      const ratio = Math.max(window.devicePixelRatio || 1, 1);
      const width = canvas.clientWidth || 300;
      const height = canvas.clientHeight || 150;
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(height * ratio);
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      ctx.lineWidth = 2.5;
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.strokeStyle = '#1f2328';
      drawn = false;
      field.value = '';
    };
    size();
    const point = (e) => {
      const r = canvas.getBoundingClientRect();
      return { x: e.clientX - r.left, y: e.clientY - r.top };
    };
    canvas.addEventListener('pointerdown', (e) => {
      e.preventDefault();
      canvas.setPointerCapture(e.pointerId);
      last = point(e);
      ctx.beginPath();
      ctx.arc(last.x, last.y, 1.2, 0, Math.PI * 2);
      ctx.fillStyle = '#1f2328';
      ctx.fill();
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!last) return;
      e.preventDefault();
      const p = point(e);
      ctx.beginPath();
      ctx.moveTo(last.x, last.y);
      ctx.lineTo(p.x, p.y);
      ctx.stroke();
      last = p;
      drawn = true;
    });
    const end = () => { last = null; };
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    if (clear) {
      clear.addEventListener('click', () => {
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        drawn = false;
        field.value = '';
      });
    }
    form.addEventListener('submit', () => {
      field.value = drawn ? canvas.toDataURL('image/png') : '';
    });
  });
})();
