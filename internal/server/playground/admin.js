// The admin page: lists virtual keys with their limits and spend, creates
// a key (showing it once) and revokes keys, through the admin API. The
// admin key lives in sessionStorage, gone when the tab closes. Every value
// from the API is set as text, never as markup.
const KEY_STORE = 'falproxy-admin-key';
const $ = (id) => document.getElementById(id);
let adminKey = '';

async function api(method, path, body) {
  const resp = await fetch(path, {
    method,
    headers: { Authorization: 'Bearer ' + adminKey, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(data.error?.message || `HTTP ${resp.status}`);
  return data;
}

function showError(err) {
  const box = $('admin-error');
  box.textContent = err ? err.message : '';
  box.hidden = !err;
}

function cell(row, text) {
  const td = document.createElement('td');
  td.textContent = text;
  row.append(td);
  return td;
}

function money(usd) {
  return '$' + Number(usd).toFixed(2);
}

function budgetText(k) {
  if (k.budget_usd === null || k.budget_usd === undefined) return 'none';
  return `${money(k.budget_usd)} ${k.budget_period}${k.hard_stop ? '' : ' (soft)'}`;
}

function stateText(k) {
  if (!k.enabled) return 'disabled';
  if (k.expires_at && new Date(k.expires_at) <= new Date()) return 'expired';
  return k.over_budget ? 'over budget' : 'active';
}

async function refresh() {
  const { data } = await api('GET', '/admin/keys');
  const body = $('keys').querySelector('tbody');
  body.replaceChildren();
  for (const k of data) {
    const row = document.createElement('tr');
    row.dataset.id = k.id;
    row.dataset.name = k.name;
    cell(row, k.name);
    cell(row, k.owner);
    cell(row, k.prefix + '…');
    cell(row, k.models.length ? k.models.join(', ') : 'all');
    cell(row, k.rpm || '—');
    cell(row, k.max_concurrent || '—');
    cell(row, budgetText(k));
    cell(row, money(k.spent_usd)).className = 'spent';
    cell(row, stateText(k));
    const revoke = document.createElement('button');
    revoke.type = 'button';
    revoke.className = 'quiet revoke';
    revoke.textContent = 'Revoke';
    revoke.addEventListener('click', () => run(async () => {
      await api('DELETE', '/admin/keys/' + encodeURIComponent(k.id));
      await refresh();
    }));
    cell(row, '').append(revoke);
    body.append(row);
  }
  $('no-keys').hidden = data.length > 0;
}

async function run(step) {
  try {
    showError(null);
    await step();
  } catch (err) {
    showError(err);
  }
}

async function connect(key) {
  adminKey = key;
  await refresh();
  sessionStorage.setItem(KEY_STORE, key);
  $('status').textContent = 'Connected';
  $('status').classList.add('ok');
  document.querySelector('#create-form fieldset').disabled = false;
}

$('admin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(() => connect($('admin-key').value.trim()));
});

$('create-form').addEventListener('submit', (e) => {
  e.preventDefault();
  run(async () => {
    const spec = {
      name: $('new-name').value.trim(),
      owner: $('new-owner').value.trim(),
      models: $('new-models').value.split(',').map((m) => m.trim()).filter(Boolean),
      rpm: Number($('new-rpm').value || 0),
      max_concurrent: Number($('new-concurrent').value || 0),
      budget_period: $('new-period').value,
      hard_stop: $('new-hard-stop').checked,
    };
    if ($('new-budget').value !== '') spec.budget_usd = Number($('new-budget').value);
    const created = await api('POST', '/admin/keys', spec);
    $('created-key').textContent = created.key;
    $('created').hidden = false;
    $('create-form').reset();
    await refresh();
  });
});

const saved = sessionStorage.getItem(KEY_STORE);
if (saved) {
  $('admin-key').value = saved;
  run(() => connect(saved));
}
