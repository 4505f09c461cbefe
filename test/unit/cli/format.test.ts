// Output formatters: sizes, durations, tables, CSV, job rows and summaries, events, progress bars.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { Job, JobView } from '../../../cli/api/schemas.ts';
import { planDownload, safeFileName } from '../../../cli/commands/download.ts';
import { csvField, csvRow } from '../../../cli/output/csv.ts';
import { detailText, eventsJsonl, eventsTable } from '../../../cli/output/events.ts';
import {
  formatBytes,
  formatDuration,
  formatState,
  formatTags,
  formatTime,
} from '../../../cli/output/format.ts';
import { JOB_CSV_HEADER, jobCsvRecord, jobTableRow } from '../../../cli/output/job-rows.ts';
import { jobSummary } from '../../../cli/output/job-summary.ts';
import { createProgressBar, createStatusLine, renderBar } from '../../../cli/output/progress.ts';
import { renderTable } from '../../../cli/output/table.ts';

const JOB: Job = {
  jobId: '01M8MBK7D3CVFXHARRNW2KM3GN',
  endpoint: 'default',
  state: 'ARCHIVED',
  origin: 'submitted',
  createdAt: '2026-11-29T19:11:02.367Z',
  submittedAt: '2026-11-29T19:11:02.401Z',
  finishedAt: '2026-11-29T19:11:03.000Z',
  archivedAt: '2026-11-29T19:11:03.100Z',
  captureSource: 'webhook',
  upstreamId: 'abc-u1',
  upstreamStatus: 'COMPLETED',
  delayTime: 12,
  executionTime: 1250,
  inputKey: 'jobs/2026/11/29/01M8MBK7D3CVFXHARRNW2KM3GN/input.json',
  inputBytes: 43,
  resultKey: 'jobs/2026/11/29/01M8MBK7D3CVFXHARRNW2KM3GN/result.json',
  resultBytes: 1946,
  artifacts: [
    {
      key: 'jobs/2026/11/29/01M8MBK7D3CVFXHARRNW2KM3GN/artifacts/0-image.png',
      contentType: 'image/png',
      bytes: 610,
      from: 'output.image',
    },
  ],
  metadata: { team: 'vision', note: 'a, "quoted" one' },
};

function capture(isTTY: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY, columns: 80 });
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  return { stream, text: () => text };
}

describe('value formatters', () => {
  it('formats sizes, durations, times, tags and states', () => {
    expect(formatBytes(43)).toBe('43 B');
    expect(formatBytes(1946)).toBe('1.9 KB');
    expect(formatBytes(7_130_000)).toBe('6.8 MB');
    expect(formatBytes(undefined)).toBe('');
    expect(formatDuration(250)).toBe('250 ms');
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(184_000)).toBe('3 min 4 s');
    expect(formatDuration(7_500_000)).toBe('2 h 5 min');
    expect(formatTime('2026-11-29T19:11:02.367Z')).toBe('2026-11-29 19:11:02Z');
    expect(formatTags({ b: '2', a: '1' })).toBe('a=1, b=2');
    expect(formatState({ state: 'ARCHIVED', upstreamStatus: 'FAILED' })).toBe('ARCHIVED (FAILED)');
    expect(formatState({ state: 'SUBMITTING' })).toBe('SUBMITTING');
  });
});

describe('renderTable', () => {
  it('pads columns to the widest cell, right-aligns numbers, rules the header', () => {
    const lines = renderTable(
      [{ header: 'ID' }, { header: 'SIZE', align: 'right' }, { header: 'NOTE' }],
      [
        ['a', '1 B', 'x'],
        ['bbbb', '10.5 KB', ''],
      ],
    );
    expect(lines).toEqual([
      'ID       SIZE  NOTE',
      '───────────────────',
      'a         1 B  x',
      'bbbb  10.5 KB',
    ]);
  });
});

describe('CSV', () => {
  it('quotes what RFC 4180 requires', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(undefined)).toBe('');
    expect(csvRow(['a', 1, undefined, true])).toBe('a,1,,true\r\n');
  });

  it('writes a job record that parses back', () => {
    const record = jobCsvRecord(JOB);
    expect(record.endsWith('\r\n')).toBe(true);
    expect(
      record.startsWith(
        '01M8MBK7D3CVFXHARRNW2KM3GN,2026-11-29T19:11:02.367Z,default,ARCHIVED,COMPLETED,abc-u1,',
      ),
    ).toBe(true);
    const metadata = /"(\{.*\})"/.exec(record)?.[1]?.replace(/""/g, '"');
    expect(JSON.parse(metadata ?? '')).toEqual(JOB.metadata);
    expect(JOB_CSV_HEADER[0]).toBe('jobId');
  });
});

describe('job views', () => {
  const view: JobView = {
    job: JOB,
    events: [
      {
        jobId: JOB.jobId,
        at: '2026-11-29T19:11:02.370Z',
        type: 'created',
        source: 'api',
        detail: { endpoint: 'default' },
      },
      { jobId: JOB.jobId, at: '2026-11-29T19:11:03.100Z', type: 'archived', source: 'webhook' },
    ],
    links: { input: 'http://s3/input', result: 'http://s3/result', artifacts: [], expiresInSeconds: 900 },
  };

  it('shows a table row per job', () => {
    expect(jobTableRow(JOB)).toEqual([
      JOB.jobId,
      '2026-11-29 19:11:02Z',
      'default',
      'ARCHIVED',
      'COMPLETED',
      'webhook',
      '1.9 KB +1',
      'note=a, "quoted" one, team=vision',
      '',
    ]);
  });

  it('summarises a job with its timings, keys and artifacts', () => {
    const text = jobSummary(view).join('\n');
    expect(text).toContain(`Job ${JOB.jobId}  ARCHIVED (COMPLETED)`);
    expect(text).toContain('archived      2026-11-29 19:11:03Z by webhook');
    expect(text).toContain('timings       queued 12 ms, ran 1.25 s');
    expect(text).toContain('result        jobs/2026/11/29/01M8MBK7D3CVFXHARRNW2KM3GN/result.json (1.9 KB)');
    expect(text).toMatch(/0-image\.png\s+image\/png\s+610 B\s+output\.image/);
    expect(text).not.toContain('reason');
  });

  it('says how the archived result is known', () => {
    const delivered = {
      ...view,
      job: { ...view.job, provenance: 'as-delivered', verification: 'confirmed' },
    };
    expect(jobSummary(delivered).join('\n')).toContain('provenance    as-delivered (verification confirmed)');
    const verified = { ...view, job: { ...view.job, provenance: 'verified' } };
    expect(jobSummary(verified).join('\n')).toMatch(/provenance {4}verified$/m);
  });

  it('prints events as a table and as JSON lines', () => {
    expect(eventsTable(view.events)[2]).toMatch(
      /^2026-11-29T19:11:02\.370Z\s+created\s+api\s+endpoint=default$/,
    );
    expect(eventsTable([])).toEqual(['(no audit events)']);
    expect(eventsJsonl(view.events).split('\n')).toHaveLength(3);
    expect(detailText({ a: 1, b: 'x'.repeat(100) })).toMatch(/^a=1 b=x{79}…$/);
  });

  it('plans downloads inside the job folder, whatever the artifact keys say', () => {
    const plan = planDownload({
      ...view,
      links: {
        ...view.links,
        artifacts: [
          { key: 'jobs/x/artifacts/0-a.png', contentType: 'image/png', bytes: 5, url: 'u1' },
          { key: 'jobs/x/artifacts/0-a.png', contentType: 'image/png', bytes: 6, url: 'u2' },
          { key: 'jobs/x/artifacts/..', contentType: 'image/png', bytes: 7, url: 'u3' },
        ],
      },
    });
    expect(plan.map((f) => [f.name, f.expectedBytes])).toEqual([
      ['input.json', 43],
      ['result.json', 1946],
      ['artifacts/0-a.png', 5],
      ['artifacts/2-0-a.png', 6],
      ['artifacts/_', 7],
    ]);
    expect(safeFileName('a/b c?.png')).toBe('a_b_c_.png');
  });
});

describe('progress', () => {
  it('draws a bar', () => {
    expect(renderBar(0, 100, 10)).toBe('[░░░░░░░░░░]   0%');
    expect(renderBar(50, 100, 10)).toBe('[█████░░░░░]  50%');
    expect(renderBar(200, 100, 10)).toBe('[██████████] 100%');
    expect(renderBar(0, 0, 4)).toBe('[████] 100%');
  });

  it('redraws in place on a terminal and prints plain lines otherwise', () => {
    const tty = capture(true);
    const bar = createProgressBar(tty.stream, 100);
    bar.update(100, 'done');
    bar.log('file.json 1 KB');
    bar.finish();
    expect(tty.text()).toContain('\r\x1b[2K[');
    expect(tty.text()).toContain('file.json 1 KB\n');

    const pipe = capture(false);
    const plain = createProgressBar(pipe.stream, 100);
    plain.update(50);
    plain.log('file.json 1 KB');
    plain.finish();
    expect(pipe.text()).toBe('file.json 1 KB\n');
  });

  it('prints status changes only, off a terminal', () => {
    const pipe = capture(false);
    const status = createStatusLine(pipe.stream);
    status.set('X PENDING 1 s', 'PENDING');
    status.set('X PENDING 2 s', 'PENDING');
    status.set('X ARCHIVED 3 s', 'ARCHIVED');
    status.finish();
    expect(pipe.text()).toBe('X PENDING 1 s\nX ARCHIVED 3 s\n');
  });
});
