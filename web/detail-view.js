// One job: summary, downloads, audit timeline, input and result (pretty JSON, large ones previewed) and images.
import { getJson, readArchived } from './api.js';
import { clear, h } from './dom.js';
import {
  eventDetail,
  eventName,
  fileName,
  formatBytes,
  formatDuration,
  formatTime,
  jobSize,
  prettyJson,
  safeHttpUrl,
  shortPrincipal,
  tagList,
} from './format.js';
import { badge } from './list-view.js';

/** How much of input.json and result.json is shown inline; the download link has the rest. */
export const PREVIEW_BYTES = 200 * 1024;

let generation = 0;

const section = (title, id, ...children) =>
  h('section', { class: 'panel', id }, h('h2', {}, title), ...children);

const download = (url, label, bytes) => {
  const href = safeHttpUrl(url);
  if (!href) return null;
  return h(
    'a',
    { class: 'download', href, target: '_blank', rel: 'noopener noreferrer', download: label },
    label,
    bytes === undefined ? null : h('span', { class: 'extra' }, ` ${formatBytes(bytes)}`),
  );
};

function summary(job) {
  const since = (iso) => {
    if (!iso || !job.createdAt) return null;
    const ms = Date.parse(iso) - Date.parse(job.createdAt);
    return Number.isFinite(ms) ? h('span', { class: 'extra' }, ` (+${formatDuration(ms)})`) : null;
  };
  const time = (iso) => (iso ? [h('time', { datetime: iso }, formatTime(iso, true)), since(iso)] : null);
  const size = jobSize(job);
  const tags = tagList(job.metadata);
  const items = [
    ['State', badge(job.state)],
    ['Upstream status', badge(job.upstreamStatus)],
    ['Endpoint', job.endpoint],
    ['Origin', job.origin],
    ['Submitted by', job.submittedBy && h('span', { class: 'mono' }, job.submittedBy)],
    ['Tracked by', job.trackedBy && h('span', { class: 'mono' }, job.trackedBy)],
    ['Upstream id', job.upstreamId && h('span', { class: 'mono' }, job.upstreamId)],
    ['Created', time(job.createdAt)],
    ['Submitted', time(job.submittedAt)],
    ['Finished', time(job.finishedAt)],
    ['Archived', time(job.archivedAt)],
    ['Expired', time(job.expiredAt)],
    ['Rejected', time(job.rejectedAt)],
    ['Captured by', job.captureSource],
    ['Provenance', provenanceText(job)],
    ['Queue delay', job.delayTime !== undefined && formatDuration(job.delayTime)],
    ['Execution', job.executionTime !== undefined && formatDuration(job.executionTime)],
    ['Sweeper looks', job.looks],
    ['Reason', job.reason && h('span', { class: 'reason' }, job.reason)],
    ['Size', size.total > 0 && `${formatBytes(size.total)} (${size.detail})`],
    ['Tags', tags.length > 0 && tags.map((tag) => h('span', { class: 'tag' }, tag))],
    ['Policy', job.policy && h('code', {}, JSON.stringify(job.policy))],
    ['Sync', job.sync === true && 'yes (/runsync)'],
    // Only while it matters: once settled (reconciled, archived by its webhook...) the doubt is resolved.
    [
      'Submit ambiguous',
      job.submitAmbiguous === true &&
        (job.state === 'SUBMITTING' || job.state === 'PENDING') &&
        'yes: /run timed out or failed with a 5xx',
    ],
  ];
  return h(
    'dl',
    { class: 'summary' },
    items
      .filter(([, value]) => value !== undefined && value !== null && value !== false && value !== '')
      .map(([label, value]) => h('div', {}, h('dt', {}, label), h('dd', {}, value))),
  );
}

function downloads(job, links) {
  const list = [
    download(links.input, 'input.json', job.inputBytes),
    download(links.result, 'result.json', job.resultBytes),
    ...links.artifacts.map((a) => download(a.url, fileName(a.key), a.bytes)),
  ].filter(Boolean);
  if (list.length === 0) return h('p', { class: 'none' }, 'Nothing archived yet.');
  return h('p', { class: 'downloads' }, h('span', { class: 'label' }, 'Download'), list);
}

function timelineRow(start, event) {
  const offset = Date.parse(event.at) - start;
  return h(
    'tr',
    { 'data-type': event.type },
    h(
      'td',
      { class: 'time', title: event.at },
      formatTime(event.at, true),
      Number.isFinite(offset) ? h('span', { class: 'extra' }, ` +${formatDuration(offset)}`) : null,
    ),
    h('td', { class: 'event-type' }, h('code', {}, eventName(event))),
    h('td', {}, event.source ?? ''),
    h('td', { class: 'mono', title: event.actor ?? '' }, shortPrincipal(event.actor)),
    h('td', { class: 'detail' }, eventDetail(event.detail)),
  );
}

/**
 * The audit trail: the first page came with the job; "More events" reads the next pages of
 * GET /jobs/{jobId}/events. Pages arrive oldest first, tallies of repeated events last.
 */
function timeline(job, events, cursor, mine) {
  if (events.length === 0) return h('p', { class: 'none' }, 'No audit events.');
  const start = Date.parse(job.createdAt);
  const sorted = [...events].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const body = h(
    'tbody',
    {},
    sorted.map((event) => timelineRow(start, event)),
  );
  let next = cursor;
  const status = h('span', { class: 'status' });
  const more = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      id: 'more-events',
      onclick: async () => {
        more.disabled = true;
        status.textContent = 'Loading…';
        try {
          const path = `/jobs/${encodeURIComponent(job.jobId)}/events?cursor=${encodeURIComponent(next)}`;
          const page = await getJson(path);
          if (mine !== generation) return;
          for (const event of page.events ?? []) body.append(timelineRow(start, event));
          next = page.cursor;
          status.textContent = '';
        } catch (error) {
          if (mine !== generation) return;
          status.className = 'status error';
          status.textContent = error.message;
        } finally {
          more.disabled = false;
          more.hidden = !next;
        }
      },
    },
    'More events',
  );
  more.hidden = !next;
  const head = h(
    'tr',
    {},
    ['Time', 'Event', 'Source', 'Actor', 'Detail'].map((title) => h('th', {}, title)),
  );
  return [h('table', { class: 'timeline' }, h('thead', {}, head), body), h('p', {}, more, ' ', status)];
}

function images(artifacts) {
  const shown = artifacts.filter((a) => a.contentType?.startsWith('image/') && safeHttpUrl(a.url));
  if (shown.length === 0) return null;
  return h(
    'div',
    { class: 'artifacts' },
    shown.map((a) => {
      const href = safeHttpUrl(a.url);
      return h(
        'figure',
        {},
        h(
          'a',
          { href, target: '_blank', rel: 'noopener noreferrer' },
          h('img', { src: href, alt: `artifact ${fileName(a.key)}`, decoding: 'async' }),
        ),
        h('figcaption', {}, `${fileName(a.key)} · ${a.contentType} · ${formatBytes(a.bytes)}`),
      );
    }),
  );
}

/** Fills `pre` with the archived JSON (or the part of it to pick, e.g. the status of result.json). */
async function showArchived(pre, url, bytes, pick, mine) {
  const href = safeHttpUrl(url);
  if (!href) {
    pre.textContent = 'Not archived.';
    return;
  }
  try {
    const { text, truncated } = await readArchived(href, PREVIEW_BYTES);
    if (mine !== generation) return;
    if (truncated) {
      const total = bytes === undefined ? 'a larger file' : formatBytes(bytes);
      pre.before(
        h(
          'p',
          { class: 'notice' },
          `Showing the first ${formatBytes(PREVIEW_BYTES)} of ${total}, as stored. `,
          h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, 'Download all of it'),
          '.',
        ),
      );
      pre.textContent = text;
      return;
    }
    try {
      pre.textContent = prettyJson(pick(JSON.parse(text)));
    } catch {
      pre.textContent = text;
    }
  } catch (error) {
    if (mine !== generation) return;
    pre.classList.add('error');
    pre.textContent = `${error.message} The download link still works.`;
  }
}

function notArchivedText(job) {
  if (job.state === 'EXPIRED') return 'The upstream dropped this result before it could be captured.';
  if (job.state === 'REJECTED') return 'The upstream refused this job; there is no result.';
  return 'Not archived yet: the job is still running upstream. Reload to check again.';
}

/** Renders job `jobId` into `root` (the back link goes to `backHref`); a later call wins over one still loading. */
export async function showJob(root, jobId, backHref = '#/') {
  const mine = ++generation;
  clear(root);
  const back = h('a', { class: 'back', href: backHref }, '← All jobs');
  root.append(back, h('h1', {}, 'Job ', h('span', { class: 'mono' }, jobId)));
  const status = h('p', { class: 'status' }, 'Loading…');
  root.append(status);
  let view;
  try {
    view = await getJson(`/jobs/${encodeURIComponent(jobId)}`);
  } catch (error) {
    if (mine !== generation) return;
    status.className = 'status error';
    status.textContent = error.message;
    return;
  }
  if (mine !== generation) return;
  status.remove();
  const { job, events, eventsCursor, links } = view;
  const inputPre = h('pre', { class: 'json', id: 'input-json' }, 'Loading…');
  const resultPre = h('pre', { class: 'json', id: 'result-json' }, 'Loading…');
  const reload = h(
    'button',
    { type: 'button', class: 'secondary', onclick: () => showJob(root, jobId, backHref) },
    'Reload',
  );
  root.append(
    section('Summary', 'job-summary', summary(job), downloads(job, links), h('p', {}, reload)),
    section('Timeline', 'job-timeline', timeline(job, events, eventsCursor, mine)),
    section('Input', 'job-input', inputPre),
    section(
      'Result',
      'job-result',
      h('p', { class: 'hint' }, 'The upstream status object, as archived in result.json.'),
      images(links.artifacts),
      links.result ? resultPre : h('p', { class: 'none' }, notArchivedText(job)),
    ),
  );
  await Promise.all([
    showArchived(inputPre, links.input, job.inputBytes, (doc) => doc, mine),
    links.result
      ? showArchived(resultPre, links.result, job.resultBytes, (doc) => doc?.status ?? doc, mine)
      : undefined,
  ]);
}

/** How the archived result is known: from /status (verified) or from an unsigned webhook body (as delivered). */
function provenanceText(job) {
  const after = {
    pending: ', verification pending',
    confirmed: ', confirmed by /status',
    unverifiable: ', could not be verified (the upstream forgot the job first)',
    mismatch: '; the webhook body differed and is kept as evidence',
  };
  if (job.provenance === 'verified') return `verified (from /status)${after[job.verification] ?? ''}`;
  if (job.provenance === 'as-delivered')
    return `as delivered by a webhook${after[job.verification] ?? ' (not verified)'}`;
  return undefined;
}
