// The archive browser in Debian's headless Chromium (playwright-core): list, filter, one job, SigV4 signing.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { type Browser, chromium, type Page, type Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_BUCKET, type LocalStack, startLocalStack } from '../../local/stack.ts';
import { allowBrowserReads, createWebServer } from '../../local/web-server.ts';
import { WAIT_CAP_MS } from '../support/wait.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');
const DOCS_SCREENSHOT = join(import.meta.dirname, '..', '..', 'docs', 'browser.png');
const available = existsSync(CHROMIUM);
const ci = process.env.CI === 'true';
if (!available && !ci)
  console.warn(
    `Skipping the archive browser test: ${CHROMIUM} is missing; install Debian's chromium (apt-get install chromium).`,
  );

interface SubmittedJob {
  jobId: string;
  state: string;
  upstreamStatus?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function submit(url: string, body: unknown): Promise<string> {
  const response = await fetch(`${url}/jobs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(202);
  const { job } = (await response.json()) as { job: SubmittedJob };
  return job.jobId;
}

async function waitArchived(url: string, jobId: string, timeoutMs = WAIT_CAP_MS): Promise<SubmittedJob> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/jobs/${jobId}`);
    const { job } = (await response.json()) as { job: SubmittedJob };
    if (job.state === 'ARCHIVED') return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} is ${job.state} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** What the AWS SDK's signer makes of the request the page sent, at the page's x-amz-date. */
async function expectedAuthorization(request: Request, credentials: typeof AWS_CREDENTIALS): Promise<string> {
  const headers = await request.allHeaders();
  const date = (headers['x-amz-date'] ?? '').replace(
    /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/,
    '$1-$2-$3T$4:$5:$6Z',
  );
  const url = new URL(request.url());
  const signer = new SignatureV4({
    service: 'execute-api',
    region: credentials.region,
    credentials,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: false,
  });
  const signed = await signer.sign(
    new HttpRequest({
      method: request.method(),
      hostname: url.hostname,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { host: url.host },
    }),
    { signingDate: new Date(date) },
  );
  return String(signed.headers.authorization);
}

const AWS_CREDENTIALS = {
  accessKeyId: 'ASIAQEXAMPLE7EXAMPLE',
  secretAccessKey: 'je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY',
  sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//+token==',
  region: 'eu-west-1',
};

/** Job ids in the table, top to bottom. */
const rowIds = (page: Page) =>
  page.locator('#job-rows tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job-id')));

describe.skipIf(!available && !ci)('archive browser', () => {
  let stack: LocalStack;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  const ids = { text: '', image: '', failure: '' };
  /** A load reads on while it is short of a page (web/list-view.js): on a quiet table, several listing pages. */
  const loadEnded = (p: Page) =>
    expect.poll(() => p.locator('#list-status').textContent(), { timeout: 60_000 }).not.toBe('Loading…');
  const pageProblems: string[] = [];

  beforeAll(async () => {
    if (!available)
      throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)`);
    dataDir = await mkdtemp(join(tmpdir(), 'archiver-browser-'));
    stack = await startLocalStack({
      port: 0,
      dataDir,
      dynamoInMemory: true,
      sweepIntervalMs: 200,
      config: { FIRST_LOOK_MS: '300', LOOK_INTERVAL_MS: '300', LOG_LEVEL: 'silent' },
      emulator: { webhookRetryDelayMs: 200 },
      fallback: createWebServer(),
    });
    await allowBrowserReads(stack.stores, LOCAL_BUCKET);
    // Submitted one after another, so the table's newest-first order is known: failure, image, text.
    ids.text = await submit(stack.url, {
      input: { prompt: 'hello' },
      metadata: { suite: 'browser', note: '<b>not bold</b>' },
    });
    await sleep(5);
    ids.image = await submit(stack.url, {
      input: { handler: 'image-base64' },
      metadata: { suite: 'browser' },
    });
    await sleep(5);
    ids.failure = await submit(stack.url, { input: { handler: 'fail' }, metadata: { suite: 'browser' } });
    const archived = await Promise.all(Object.values(ids).map((id) => waitArchived(stack.url, id)));
    expect(archived.map((job) => job.upstreamStatus)).toEqual(['COMPLETED', 'COMPLETED', 'FAILED']);

    await mkdir(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = await browser.newPage({ viewport: { width: 1200, height: 760 } });
    page.on('pageerror', (error) => pageProblems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') pageProblems.push(`console: ${message.text()}`);
    });
  });

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('serves the page with a Content-Security-Policy, its assets, and 404 for anything else', async () => {
    const index = await fetch(`${stack.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(index.headers.get('content-security-policy')).toContain("default-src 'self'");
    const script = await fetch(`${stack.url}/assets/app.js`);
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect((await fetch(`${stack.url}/assets/..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${stack.url}/assets/build-assets.ts`)).status).toBe(404);
    expect((await fetch(`${stack.url}/nothing-here`)).status).toBe(404);
  });

  it('lists the jobs newest first, with untrusted text shown as text', async () => {
    await page.goto(`${stack.url}/`);
    await page.waitForSelector('#job-rows tr');
    await expect.poll(() => rowIds(page)).toEqual([ids.failure, ids.image, ids.text]);
    const textRow = page.locator(`#job-rows tr[data-job-id="${ids.text}"]`);
    await expect.poll(() => textRow.locator('.tag').allTextContents()).toContain('note=<b>not bold</b>');
    expect(await page.locator('#job-rows b').count()).toBe(0);
    // The list reads on while a load is short of a page: the status settles once the range is walked.
    await loadEnded(page);
    expect(await page.locator('#list-status').textContent()).toBe('3 jobs.');
    await page.screenshot({ path: join(ARTIFACTS, 'browser-list.png') });
  });

  it('filters by state FAILED: only the failure', async () => {
    await page.selectOption('#filter-state', 'FAILED');
    await expect.poll(() => rowIds(page)).toEqual([ids.failure]);
    expect(page.url()).toContain('state=FAILED');
    await page.click('#filters button[type=reset]');
    await expect.poll(() => rowIds(page)).toHaveLength(3);
  });

  it('opens the image job: summary, timeline, input, result and the image itself', async () => {
    await page.click(`#job-rows tr[data-job-id="${ids.image}"] td.time`);
    await page.waitForSelector('#job-timeline');
    expect(page.url()).toContain(`#/jobs/${ids.image}`);

    const image = page.locator('.artifacts img').first();
    await image.waitFor();
    await expect
      .poll(() =>
        image.evaluate(
          (img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth,
        ),
      )
      .toBeGreaterThan(0);

    const types = await page
      .locator('#job-timeline tbody tr')
      .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-type')));
    expect(types).toContain('created');
    // Reads of the job before the page issued download links, each audited: the job's story ends archived.
    expect(types.filter((type) => type !== 'links.issued').at(-1)).toBe('archived');

    const input = page.locator('#input-json');
    await expect.poll(() => input.textContent()).toContain('"handler": "image-base64"');
    const result = page.locator('#result-json');
    await expect.poll(() => result.textContent()).toContain('"status": "COMPLETED"');
    expect(await page.locator('#job-summary a.download').count()).toBeGreaterThanOrEqual(3);

    await page.screenshot({ path: join(ARTIFACTS, 'browser-detail.png'), fullPage: true });
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1' || !existsSync(DOCS_SCREENSHOT)) {
      await page.screenshot({ path: DOCS_SCREENSHOT });
    }
  });

  it('goes back to the list as it was, and shows a failure with its reason', async () => {
    await page.click('a.back');
    await expect.poll(() => rowIds(page)).toEqual([ids.failure, ids.image, ids.text]);
    await page.click(`#job-rows tr[data-job-id="${ids.failure}"] td.time`);
    await expect.poll(() => page.locator('#job-summary .reason').textContent()).toBeTruthy();
    await expect.poll(() => page.locator('#result-json').textContent()).toContain('"status": "FAILED"');
    expect(pageProblems).toEqual([]);
  });

  it('signs its API requests with pasted AWS credentials (SigV4, WebCrypto), kept in sessionStorage only', async () => {
    await page.goto(`${stack.url}/`);
    // The first load may read several pages: let it end, so the request caught below is the signed one.
    await loadEnded(page);
    await page.click('#aws-auth summary');
    await page.fill(
      '#aws-paste',
      [
        `export AWS_ACCESS_KEY_ID=${AWS_CREDENTIALS.accessKeyId}`,
        `export AWS_SECRET_ACCESS_KEY=${AWS_CREDENTIALS.secretAccessKey}`,
        `export AWS_SESSION_TOKEN=${AWS_CREDENTIALS.sessionToken}`,
      ].join('\n'),
    );
    expect(await page.inputValue('#aws-access-key-id')).toBe(AWS_CREDENTIALS.accessKeyId);
    expect(await page.inputValue('#aws-paste')).toBe('');
    await page.fill('#aws-region', AWS_CREDENTIALS.region);
    const listed = page.waitForRequest((r) => new URL(r.url()).pathname === '/jobs');
    await page.click('#aws-form button[type=submit]');
    const request = await listed;

    const headers = await request.allHeaders();
    expect(headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAQEXAMPLE7EXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
    expect(headers.authorization).toBe(await expectedAuthorization(request, AWS_CREDENTIALS));
    expect(headers['x-amz-security-token']).toBe(AWS_CREDENTIALS.sessionToken);
    expect(JSON.stringify(headers)).not.toContain(AWS_CREDENTIALS.secretAccessKey);
    // The local gateway has no IAM: the signed request is answered like any other.
    await expect.poll(() => rowIds(page)).toEqual([ids.failure, ids.image, ids.text]);
    expect(await page.locator('#aws-state').textContent()).toBe('ASIA…MPLE · eu-west-1');
    // A string, evaluated in the page: the test's types know no DOM.
    const stored = async () =>
      (await page.evaluate(
        '({ session: JSON.stringify(sessionStorage), local: JSON.stringify(localStorage) })',
      )) as { session: string; local: string };
    expect((await stored()).session).toContain(AWS_CREDENTIALS.secretAccessKey);
    expect((await stored()).local).not.toContain(AWS_CREDENTIALS.secretAccessKey);

    // The signed load may read on for several pages: let it end, so the request caught next is the unsigned one.
    await loadEnded(page);
    const unsigned = page.waitForRequest((r) => new URL(r.url()).pathname === '/jobs');
    await page.click('#aws-auth summary');
    await page.click('#aws-clear');
    expect((await (await unsigned).allHeaders()).authorization).toBeUndefined();
    expect((await stored()).session).not.toContain(AWS_CREDENTIALS.secretAccessKey);
    expect(await page.locator('#aws-state').textContent()).toBe('off');
    expect(pageProblems).toEqual([]);
  });
});
