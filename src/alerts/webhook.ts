import { lazyModule } from '../lazy-module.js';

const undici = lazyModule<typeof import('undici')>('undici');
import type { Logger } from '../log.js';
import type { AlertRecord } from '../operations.js';

export interface WebhookOptions {
  url: string;
  timeoutMs: number;
  retries: number;
  logger: Logger;
  /** Deliveries waiting at most; beyond it the oldest is dropped (and logged). */
  maxQueue?: number;
  /** Backoff before retry n (1-based); default 250 ms × 2^(n-1). */
  backoffMs?: (attempt: number) => number;
}

export interface WebhookPayload {
  event: 'fired' | 'resolved' | 'updated';
  alert: AlertRecord;
  source: 'healthmesh';
  /** Posted by a newly elected replica for what happened while no replica led (replicated mode). */
  replayed?: true;
  /** Replicated mode, alerts about this replica's own proxy streams (`nack`): the replica that raised it. */
  replica?: string;
}

/**
 * POSTs alert events as JSON to a URL, one at a time, in order, each attempt bounded by a timeout,
 * retried with backoff on network errors and 5xx/429. A hanging or failing receiver never blocks
 * the caller: `send` only enqueues.
 */
export class WebhookSink {
  private readonly queue: Array<{ payload: WebhookPayload; settled?: ((delivered: boolean) => void) | undefined }> = [];
  private running: Promise<void> | undefined;
  private stopped = false;
  delivered = 0;
  failed = 0;

  constructor(private readonly opts: WebhookOptions) {}

  /** Queues a delivery; `settled` is told whether the receiver accepted it (2xx) once that is known. */
  send(payload: WebhookPayload, settled?: (delivered: boolean) => void): void {
    if (this.stopped) return;
    const max = this.opts.maxQueue ?? 1000;
    if (this.queue.length >= max) {
      const dropped = this.queue.shift();
      this.opts.logger.warn({ alert: dropped?.payload.alert.id }, 'alert webhook queue full: dropping the oldest delivery');
      dropped?.settled?.(false);
    }
    this.queue.push({ payload, settled });
    this.running ??= this.drain().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when everything queued so far has been delivered or given up on. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const q of this.queue.splice(0)) q.settled?.(false);
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next && !this.stopped; next = this.queue.shift()) {
      const delivered = await this.deliver(next.payload);
      next.settled?.(delivered);
    }
  }

  private async deliver(payload: WebhookPayload): Promise<boolean> {
    const body = JSON.stringify(payload);
    const attempts = this.opts.retries + 1;
    for (let attempt = 1; attempt <= attempts && !this.stopped; attempt++) {
      const outcome = await this.attempt(body);
      if (outcome === 'ok') {
        this.delivered++;
        return true;
      }
      const last = attempt === attempts;
      this.opts.logger[last ? 'error' : 'warn'](
        { alert: payload.alert.id, attempt, of: attempts, outcome },
        last ? 'alert webhook delivery failed; giving up' : 'alert webhook delivery failed; retrying',
      );
      if (outcome === 'permanent') break;
      if (!last) await new Promise((r) => setTimeout(r, (this.opts.backoffMs ?? ((n) => 250 * 2 ** (n - 1)))(attempt)));
    }
    this.failed++;
    return false;
  }

  private async attempt(body: string): Promise<'ok' | 'permanent' | string> {
    try {
      const res = await undici().request(this.opts.url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', 'user-agent': 'healthmesh-alerts' },
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        headersTimeout: this.opts.timeoutMs,
        bodyTimeout: this.opts.timeoutMs,
      });
      await res.body.dump();
      if (res.statusCode >= 200 && res.statusCode < 300) return 'ok';
      if (res.statusCode === 429 || res.statusCode >= 500) return `HTTP ${res.statusCode}`;
      return 'permanent';
    } catch (err) {
      return (err as Error).name === 'TimeoutError' || (err as Error).name === 'AbortError'
        ? `timeout after ${this.opts.timeoutMs} ms`
        : (err as Error).message;
    }
  }
}

/** The webhook settings a sink is built from (alerts.webhook in the config). */
export interface WebhookSettings {
  url: string;
  timeoutMs: number;
  retries: number;
  minLevel: 'info' | 'warning' | 'critical';
}

/**
 * The configured webhook, replaceable by a reload: a changed URL, timeout or retry count gets a new
 * sink for what is sent from then on, while deliveries already queued for the old one finish there.
 */
export class WebhookTarget {
  private sink: WebhookSink | undefined;
  private settings: WebhookSettings | undefined;
  private readonly retiring = new Set<WebhookSink>();

  constructor(
    private readonly logger: Logger,
    settings: WebhookSettings | undefined,
  ) {
    this.configure(settings);
  }

  /** The settings in force (undefined: no webhook). */
  current(): WebhookSettings | undefined {
    return this.settings;
  }

  configure(settings: WebhookSettings | undefined): void {
    const old = this.settings;
    this.settings = settings;
    if (old && settings && old.url === settings.url && old.timeoutMs === settings.timeoutMs && old.retries === settings.retries) return;
    const retired = this.sink;
    this.sink = settings ? new WebhookSink({ url: settings.url, timeoutMs: settings.timeoutMs, retries: settings.retries, logger: this.logger }) : undefined;
    if (retired) {
      this.retiring.add(retired);
      void retired
        .idle()
        .then(() => retired.stop())
        .finally(() => this.retiring.delete(retired));
    }
  }

  send(payload: WebhookPayload, settled?: (delivered: boolean) => void): void {
    if (this.sink) this.sink.send(payload, settled);
    else settled?.(false);
  }

  /** Deliveries queued so far (to the current and retired sinks) settled. */
  async idle(): Promise<void> {
    await Promise.all([this.sink?.idle(), ...[...this.retiring].map((s) => s.idle())]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.sink?.stop(), ...[...this.retiring].map((s) => s.stop())]);
  }
}
