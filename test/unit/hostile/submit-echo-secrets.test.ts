// F2: an upstream whose /run answers 2xx with a non-JSON echo of our request must not get the callback token stored.
import { describe, expect, it } from 'vitest';
import { decodeJson } from '../../../functions/adapters/upstream/parse-response.ts';
import { getJobView } from '../../../functions/core/results.ts';
import { submitJob } from '../../../functions/core/submit.ts';
import { errorResponse } from '../../../functions/http/responses.ts';
import type { RunRequest } from '../../../functions/schemas/upstream.ts';
import { testDeps } from '../../support/fakes.ts';

const ECHOES: Record<string, (request: RunRequest) => string> = {
  'plain echo': (r) => `ok ${JSON.stringify(r)}`,
  'PHP-style escaped slashes': (r) => `ok ${JSON.stringify(r).replaceAll('/', '\\/')}`,
  'percent-encoded form': (r) => `ok webhook=${encodeURIComponent(r.webhook ?? '')}&input=1`,
};

describe('a /run answer that echoes the request', () => {
  it.each(Object.keys(ECHOES))(
    '%s: no token in the audit trail, the job view or the error answer',
    async (how) => {
      const deps = testDeps();
      let token = '';
      deps.upstream.runImpl = async (_, request) => {
        token = (request.webhook ?? '').split('/').at(-1) ?? '';
        const echo = (ECHOES[how] as (r: RunRequest) => string)(request);
        // The real client's own reading of a 2xx body: not JSON, so an ambiguous submit with an excerpt.
        decodeJson('run', Buffer.from(echo));
        throw new Error('unreachable: the echo is not JSON');
      };
      const failure = await submitJob(deps, { input: { prompt: 'x'.repeat(10) } }).catch(
        (err: unknown) => err,
      );
      expect(token).toHaveLength(43);
      const [job] = [...deps.jobs.jobs.values()];
      const view = await getJobView(deps, job?.jobId ?? '');
      expect(view.events.map((e) => e.type)).toContain('submit.ambiguous');
      const stored = JSON.stringify([...deps.jobs.jobs.values(), deps.jobs.events, view]);
      for (let i = 0; i + 12 <= token.length; i++) expect(stored).not.toContain(token.slice(i, i + 12));
      const answer = errorResponse(failure, deps.logger).body ?? '';
      for (let i = 0; i + 12 <= token.length; i++) expect(answer).not.toContain(token.slice(i, i + 12));
    },
  );
});
