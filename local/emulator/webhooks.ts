// Webhook delivery as the real service does it: unsigned JSON POST, 3 tries 10 s apart, ~10 s timeout per try.
import { setMaxListeners } from 'node:events';
import { type FaultInjector, type WebhookPlan, withJobWebhookFaults } from './faults.ts';
import { type Job, statusObject, type WebhookDelivery } from './jobs.ts';
import type { Settings } from './options.ts';
import { sortKeys } from './random.ts';
import type { EmulatorStats } from './stats.ts';
import { abortableSleep } from './timers.ts';

export class WebhookSender {
  private readonly stopping = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly settings: Settings,
    private readonly faults: () => FaultInjector,
    private readonly stats: EmulatorStats,
  ) {
    // Every delivery waiting (a delay, a retry's pause, a POST) listens for the stop, each removing its listener
    // when done: hundreds at once under load are expected, not a leak.
    setMaxListeners(0, this.stopping.signal);
  }

  /** Called once per final state; the body is fixed now, before a retry could change the job. */
  deliver(job: Job): void {
    if (!job.webhook || this.stopping.signal.aborted) return;
    const counters = this.stats.webhooks;
    if (!this.settings.webhookStatuses.includes(job.status)) {
      counters.skipped++;
      return;
    }
    const body = JSON.stringify(sortKeys({ ...statusObject(job), input: job.input, webhook: job.webhook }));
    const plan = withJobWebhookFaults(this.faults().webhookPlan(), job.input);
    const task = this.run(job, job.webhook, body, plan)
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(task));
    this.inFlight.add(task);
  }

  private async run(job: Job, url: string, body: string, plan: WebhookPlan): Promise<void> {
    const counters = this.stats.webhooks;
    const skip = (outcome: 'dropped' | 'too-large') =>
      job.deliveries.push({ attempt: 0, at: Date.now(), body: plan.body, duplicate: false, outcome });
    if (Buffer.byteLength(body) > this.settings.webhookMaxBodyBytes) {
      counters.tooLarge++;
      skip('too-large');
      return;
    }
    if (plan.drop) {
      counters.dropped++;
      skip('dropped');
      return;
    }
    if (plan.delayMs > 0) {
      counters.delayed++;
      await abortableSleep(plan.delayMs, this.stopping.signal);
    }
    if (plan.body === 'empty') counters.emptyBody++;
    if (plan.body === 'null') counters.nullBody++;
    const payload = plan.body === 'empty' ? '' : plan.body === 'null' ? 'null' : body;
    let delivered = false;
    for (let attempt = 1; attempt <= this.settings.webhookAttempts && !delivered; attempt++) {
      if (attempt > 1) {
        await abortableSleep(this.settings.webhookRetryDelayMs, this.stopping.signal);
        counters.retried++;
      }
      delivered = await this.post(job, url, payload, { attempt, body: plan.body, duplicate: false });
    }
    if (!delivered) counters.failed++;
    if (plan.duplicate) {
      counters.duplicated++;
      await this.post(job, url, payload, { attempt: 1, body: plan.body, duplicate: true });
    }
  }

  /** One POST; true on 2xx. Records the try on the job. */
  private async post(
    job: Job,
    url: string,
    payload: string,
    meta: Pick<WebhookDelivery, 'attempt' | 'body' | 'duplicate'>,
  ): Promise<boolean> {
    if (this.stopping.signal.aborted) throw this.stopping.signal.reason;
    const counters = this.stats.webhooks;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.settings.webhookTimeoutMs);
    const onStop = () => controller.abort();
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    const record: WebhookDelivery = { ...meta, at: Date.now(), outcome: 'network-error' };
    counters.sent++;
    try {
      // No signature, no secret, no auth header: exactly what the real service sends.
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'submodel-emulator-webhook/1' },
        body: payload,
        signal: controller.signal,
      });
      await response.arrayBuffer();
      record.httpStatus = response.status;
      record.outcome = response.ok ? 'delivered' : 'http-error';
      if (response.ok) counters.delivered++;
      return response.ok;
    } catch (error) {
      if (this.stopping.signal.aborted) throw error;
      record.outcome = timedOut ? 'timeout' : 'network-error';
      record.error = error instanceof Error ? error.message : String(error);
      if (timedOut) counters.timeouts++;
      return false;
    } finally {
      clearTimeout(timer);
      this.stopping.signal.removeEventListener('abort', onStop);
      job.deliveries.push(record);
    }
  }

  /** Abandons every pending delivery and waits until none is left running. */
  async stop(): Promise<void> {
    this.stopping.abort(new Error('emulator stopped'));
    await Promise.allSettled([...this.inFlight]);
  }
}
