// Live tail of the log store. Prefers server-sent events from GET /api/v1/logs/tail (the server
// streams when asked with Accept: text/event-stream: `event: log`, data = one record, id = its
// cursor); a server that answers that request with JSON instead (no streaming), or a stream that
// closes for good, falls back to the long poll on the same endpoint (?cursor=&wait=). Records are
// handed over at most once each, in cursor order, whichever way they came.

import { authHeaders, qs, type Params } from '../api';
import { EventStream } from '../sse';
import { isAbort } from './common';

export interface LogRecord {
  cursor: number; timeUnixNano: string; severityNumber: number; severityText: string; body: string; service: string;
  traceId?: string; spanId?: string; attributes: Record<string, string>; resource: Record<string, string>;
}

export type TailMode = 'connecting' | 'stream' | 'poll' | 'retrying' | 'stopped';

export interface TailHandlers {
  records: (r: LogRecord[]) => void;
  mode: (m: TailMode, detail: string) => void;
}

const POLL_WAIT = '25s';
const RETRY_MS = 5000;

export class LogTail {
  private es: EventStream | null = null;
  private ctl: AbortController | null = null;
  private stopped = false;
  private retryTimer = 0;

  // `cursor`: the newest record already shown (null: start at the store's newest).
  constructor(private readonly filters: Params, public cursor: number | null, private readonly on: TailHandlers) {}

  start(): void {
    this.stopped = false;
    this.on.mode('connecting', 'Connecting to the server…');
    this.stream();
  }

  stop(): void {
    this.stopped = true;
    this.es?.stop();
    this.es = null;
    this.ctl?.abort();
    this.ctl = null;
    window.clearTimeout(this.retryTimer);
    this.on.mode('stopped', '');
  }

  private url(extra: Params = {}): string {
    return `/api/v1/logs/tail${qs({ ...this.filters, ...(this.cursor !== null ? { cursor: this.cursor } : {}), ...extra })}`;
  }

  private deliver(recs: LogRecord[]): void {
    const fresh = recs.filter((r) => this.cursor === null || r.cursor > this.cursor).sort((a, b) => a.cursor - b.cursor);
    if (!fresh.length) return;
    this.cursor = fresh[fresh.length - 1].cursor;
    this.on.records(fresh);
  }

  // Opens the stream; a server that refuses it (or answers with JSON: no streaming) is long-polled.
  private stream(): void {
    const es = new EventStream(this.url(), {
      open: () => this.on.mode('stream', 'Streaming: the server pushes each record as it is stored (server-sent events).'),
      event: (e) => {
        if (e.event === 'error') {
          this.on.mode('retrying', `The server reported: ${safeError(e.data)}`);
          return;
        }
        if (e.event !== 'log') return;
        try {
          const r = JSON.parse(e.data) as LogRecord;
          if (typeof r.cursor !== 'number') r.cursor = Number(e.id) || 0;
          this.deliver([r]);
        } catch { /* a malformed event is skipped; the next one carries on */ }
      },
      dropped: () => this.on.mode('retrying', 'The stream dropped; reconnecting to resume after the last record (Last-Event-ID).'),
      refused: () => {
        this.es = null;
        this.poll('The server does not stream this request; long polling instead.');
      },
    }, this.cursor !== null ? String(this.cursor) : '');
    this.es = es;
    es.start();
  }

  private poll(note = ''): void {
    if (this.stopped) return;
    this.on.mode('poll', note || 'Long polling: the server holds each request until records arrive (this server does not stream).');
    void this.pollLoop();
  }

  private async pollLoop(): Promise<void> {
    while (!this.stopped) {
      const ctl = new AbortController();
      this.ctl = ctl;
      try {
        const res = await fetch(this.url({ wait: POLL_WAIT, limit: 500 }), { headers: { Accept: 'application/json', ...authHeaders() }, signal: ctl.signal });
        const body = await res.json() as { status: string; error?: string; data?: { logs: LogRecord[]; cursor: number } };
        if (!res.ok || body.status !== 'success' || !body.data) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
        this.deliver(body.data.logs);
        this.cursor = Math.max(this.cursor ?? 0, body.data.cursor);
      } catch (e) {
        if (this.stopped || isAbort(e)) return;
        this.on.mode('retrying', `The tail request failed (${(e as Error).message}); retrying in ${RETRY_MS / 1000} s.`);
        await new Promise<void>((r) => { this.retryTimer = window.setTimeout(r, RETRY_MS); });
        if (!this.stopped) this.on.mode('poll', 'Long polling: the server holds each request until records arrive.');
      }
    }
  }
}

function safeError(data: string): string {
  try {
    return (JSON.parse(data) as { error?: string }).error ?? data;
  } catch {
    return data;
  }
}
