// The archive browser's entry: authentication (auth-view.js) and the routes `#/?filters` (job table) and `#/jobs/{id}` (one job).
import { setUpAuth } from './auth-view.js';
import { showJob } from './detail-view.js';
import { byId } from './dom.js';
import { ARCHIVE_STATES, listHash, parseRoute, UPSTREAM_OUTCOMES } from './format.js';
import { createListView } from './list-view.js';

const listSection = byId('list-view');
const detailSection = byId('detail-view');

function fillStateOptions() {
  const select = byId('filter-state');
  const group = (label, values) => {
    const optgroup = document.createElement('optgroup');
    optgroup.label = label;
    for (const value of values) optgroup.append(new Option(value, value));
    select.append(optgroup);
  };
  group('Archive state', ARCHIVE_STATES);
  group('Upstream outcome (archived)', UPSTREAM_OUTCOMES);
}

fillStateOptions();
const list = createListView();
let listAddress = '#/';

function route() {
  const current = parseRoute(location.hash);
  if (current.view === 'job') {
    listSection.hidden = true;
    detailSection.hidden = false;
    document.title = `${current.jobId} · submodel-archiver`;
    showJob(detailSection, current.jobId, listAddress);
    window.scrollTo(0, 0);
  } else {
    detailSection.hidden = true;
    listSection.hidden = false;
    document.title = 'Archive · submodel-archiver';
    listAddress = listHash(current.filters);
    list.show(current.filters);
  }
}

setUpAuth();
window.addEventListener('hashchange', route);
route();
