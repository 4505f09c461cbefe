// The job table: filters (state, endpoint, tag, time range) in the address, newest first, more pages by cursor.
import { getJson } from './api.js';
import { byId, clear, h } from './dom.js';
import { formatBytes, formatTime, jobHash, jobSize, listHash, listRequest, tagList, tone } from './format.js';

/** Pages fetched per click when a client-side filter (an upstream outcome) leaves a page empty. */
const MAX_PAGES_PER_LOAD = 5;
/** Jobs a load asks for: a page may hold fewer (a listing page ends after a bounded walk of empty days). */
const PAGE_SIZE = 50;

export function badge(status) {
  return status
    ? h('span', { class: `badge badge-${tone(status)}` }, status)
    : h('span', { class: 'none' }, '—');
}

function row(job) {
  const size = jobSize(job);
  const open = () => {
    location.hash = jobHash(job.jobId);
  };
  return h(
    'tr',
    {
      class: 'job-row',
      tabindex: '0',
      'data-job-id': job.jobId,
      onclick: (event) => {
        if (!(event.target instanceof Element && event.target.closest('a'))) open();
      },
      onkeydown: (event) => {
        if (event.key === 'Enter') open();
      },
    },
    h('td', { class: 'time', title: job.createdAt }, formatTime(job.createdAt)),
    h('td', { class: 'mono' }, h('a', { href: jobHash(job.jobId) }, job.jobId)),
    h('td', {}, job.endpoint),
    h('td', {}, badge(job.state)),
    h('td', {}, badge(job.upstreamStatus)),
    h('td', {}, job.captureSource ?? h('span', { class: 'none' }, '—')),
    h(
      'td',
      { class: 'num', title: size.detail },
      formatBytes(size.total),
      size.artifacts > 0 ? h('span', { class: 'extra' }, ` +${size.artifacts}`) : null,
    ),
    h(
      'td',
      { class: 'tags' },
      tagList(job.metadata).map((tag) => h('span', { class: 'tag', title: tag }, tag)),
    ),
  );
}

/** Wires the list section of index.html; show(filters) renders it (reusing the rows when nothing changed). */
export function createListView() {
  const form = byId('filters');
  const rows = byId('job-rows');
  const status = byId('list-status');
  const more = byId('load-more');
  const endpoints = byId('endpoint-options');
  const fields = {
    state: byId('filter-state'),
    endpoint: byId('filter-endpoint'),
    tag: byId('filter-tag'),
    from: byId('filter-from'),
    to: byId('filter-to'),
  };
  const seenEndpoints = new Set();
  let loadedKey;
  let filters = {};
  let cursor;
  let shown = 0;
  let generation = 0;

  const readForm = () => Object.fromEntries(Object.entries(fields).map(([key, input]) => [key, input.value]));
  const writeForm = (values) => {
    for (const [key, input] of Object.entries(fields)) input.value = values[key] ?? '';
  };
  const go = (values) => {
    const target = listHash(values);
    if (target === (location.hash || '#/')) load(values, false);
    else location.hash = target;
  };

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    go(readForm());
  });
  form.addEventListener('reset', (event) => {
    event.preventDefault();
    writeForm({});
    go({});
  });
  fields.state.addEventListener('change', () => go(readForm()));
  byId('refresh').addEventListener('click', () => load(filters, false));
  more.addEventListener('click', () => load(filters, true));

  function summary(done) {
    const count = `${shown} job${shown === 1 ? '' : 's'}`;
    if (shown === 0 && done) return 'No jobs match (the default range is the last 30 days).';
    return cursor ? `${count} shown; there are more.` : `${count}.`;
  }

  async function load(values, append) {
    const mine = ++generation;
    filters = values;
    loadedKey = listHash(values);
    if (!append) {
      clear(rows);
      shown = 0;
      cursor = undefined;
    }
    more.hidden = true;
    status.className = 'status';
    status.textContent = 'Loading…';
    form.setAttribute('aria-busy', 'true');
    try {
      let pages = 0;
      let added = 0;
      do {
        const request = listRequest(values, append || pages > 0 ? cursor : undefined, PAGE_SIZE);
        const page = await getJson(request.path);
        if (mine !== generation) return;
        pages++;
        cursor = page.cursor;
        for (const job of page.jobs) {
          if (!seenEndpoints.has(job.endpoint)) {
            seenEndpoints.add(job.endpoint);
            endpoints.append(h('option', { value: job.endpoint }));
          }
          if (!request.matches(job)) continue;
          rows.append(row(job));
          added++;
        }
      } while (added < PAGE_SIZE && cursor && pages < MAX_PAGES_PER_LOAD);
      shown += added;
      status.textContent = summary(!cursor);
      more.hidden = !cursor;
    } catch (error) {
      if (mine !== generation) return;
      status.className = 'status error';
      status.textContent = error.message;
      more.hidden = !cursor;
    } finally {
      if (mine === generation) form.removeAttribute('aria-busy');
    }
  }

  return {
    show(values) {
      writeForm(values);
      if (loadedKey !== listHash(values)) load(values, false);
    },
  };
}
