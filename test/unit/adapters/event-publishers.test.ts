import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher, LocalEventPublisher } from '../../../functions/adapters/event-publishers.ts';
import { RecordingLogger } from '../../support/fakes.ts';
import { pendingJob } from '../../support/jobs.ts';

const archived = pendingJob({
  state: 'ARCHIVED',
  upstreamStatus: 'FAILED',
  captureSource: 'webhook',
  provenance: 'as-delivered',
  verification: 'pending',
  resultKey: 'jobs/r.json',
  resultBytes: 10,
  reason: 'CUDA out of memory',
  metadata: { team: 'vision' },
  artifacts: [{ key: 'jobs/a.png', contentType: 'image/png', bytes: 3, from: 'output.image' }],
});

describe('EventBridgePublisher', () => {
  const client = new EventBridgeClient({ region: 'eu-west-1' });
  const eb = mockClient(client);
  beforeEach(() => eb.reset());

  it('puts one event with the documented, versioned detail on the bus', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    await new EventBridgePublisher(client, 'archiver-bus').publish('Job Archived', archived);
    const entry = eb.commandCalls(PutEventsCommand)[0]?.args[0].input.Entries?.[0];
    expect(entry).toMatchObject({
      EventBusName: 'archiver-bus',
      Source: 'submodel-archiver',
      DetailType: 'Job Archived',
    });
    expect(JSON.parse(entry?.Detail ?? '{}')).toEqual({
      version: '1',
      jobId: archived.jobId,
      endpoint: 'default',
      state: 'ARCHIVED',
      upstreamId: archived.upstreamId,
      upstreamStatus: 'FAILED',
      captureSource: 'webhook',
      provenance: 'as-delivered',
      verification: 'pending',
      evidenceKey: null,
      createdAt: archived.createdAt,
      archivedAt: null,
      reason: 'CUDA out of memory',
      inputKey: archived.inputKey,
      resultKey: 'jobs/r.json',
      resultBytes: 10,
      artifacts: [{ key: 'jobs/a.png', contentType: 'image/png', bytes: 3 }],
      metadata: { team: 'vision' },
    });
  });

  it('fails loudly when EventBridge rejects the entry (the caller counts it)', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    await expect(new EventBridgePublisher(client, 'bus').publish('Job Expired', archived)).rejects.toThrow(
      'InternalFailure',
    );
  });
});

describe('LocalEventPublisher', () => {
  const received: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  let url = '';
  beforeEach(async () => {
    received.length = 0;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  });
  afterEach(async () => {
    await new Promise((r) => server.close(r));
  });

  it('forwards events in the EventBridge envelope and hands them to the printer', async () => {
    const printed: string[] = [];
    const publisher = new LocalEventPublisher(new RecordingLogger(), url, (type, detail) =>
      printed.push(`${type} ${detail.jobId}`),
    );
    await publisher.publish('Job Rejected', archived);
    expect(printed).toEqual([`Job Rejected ${archived.jobId}`]);
    expect(received).toEqual([
      expect.objectContaining({
        source: 'submodel-archiver',
        'detail-type': 'Job Rejected',
        detail: expect.objectContaining({ version: '1' }),
      }),
    ]);
  });
});
