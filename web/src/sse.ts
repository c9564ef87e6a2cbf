// Server-sent events over fetch rather than EventSource, because EventSource cannot send an
// Authorization header: with API tokens configured the stream would be refused. Parses the
// text/event-stream format (event, data, id, retry fields; comments ignored), reconnects after a
// dropped connection with Last-Event-ID, and reports a refusal (an error status, or an answer that
// is not an event stream) so the caller can fall back to polling.

import { authHeaders, unauthorized } from './api';

export interface SseEvent {
  event: string; // "message" when the server names none
  data: string;
  id: string;    // the last id seen ("" when none)
}

export interface SseHandlers {
  event: (e: SseEvent) => void;
  open?: () => void;
  // The connection dropped; it is retried after `retryMs`.
  dropped?: (retryMs: number) => void;
  // The server refused the stream (status, or not text/event-stream): not retried.
  refused?: (status: number, message: string) => void;
}

export class EventStream {
  private ctl: AbortController | null = null;
  private stopped = false;
  private retryMs = 3000;
  private timer = 0;

  // `lastEventId`: resume after this id (sent as Last-Event-ID on the first connection too).
  constructor(private readonly url: string, private readonly on: SseHandlers, public lastEventId = '') {}

  start(): void {
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.ctl?.abort();
    this.ctl = null;
    window.clearTimeout(this.timer);
  }

  private async connect(): Promise<void> {
    const ctl = new AbortController();
    this.ctl = ctl;
    const headers: Record<string, string> = { Accept: 'text/event-stream', ...authHeaders() };
    if (this.lastEventId) headers['Last-Event-ID'] = this.lastEventId;
    let res: Response;
    try {
      res = await fetch(this.url, { headers, signal: ctl.signal, cache: 'no-store' });
    } catch {
      this.retry();
      return;
    }
    const type = res.headers.get('Content-Type') ?? '';
    if (!res.ok || !type.includes('text/event-stream') || !res.body) {
      let msg = `${res.status} ${res.statusText}`;
      try {
        const b = JSON.parse(await res.text()) as { error?: string };
        if (b.error) msg = b.error;
      } catch { /* not JSON */ }
      unauthorized(res.status, msg);
      if (res.status === 503 || res.status === 502 || res.status === 504) this.retry(); // busy: later
      else if (!this.stopped) this.on.refused?.(res.status, msg);
      return;
    }
    this.on.open?.();
    try {
      await this.read(res.body.getReader());
    } catch { /* dropped or aborted */ }
    this.retry();
  }

  private retry(): void {
    if (this.stopped) return;
    this.on.dropped?.(this.retryMs);
    this.timer = window.setTimeout(() => void this.connect(), this.retryMs);
  }

  private async read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buf = '';
    let event = '';
    let data: string[] = [];
    for (;;) {
      const { value, done } = await reader.read();
      if (done || this.stopped) return;
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf.startsWith('\r\n', nl) ? 2 : 1));
        if (line === '') {
          if (data.length) this.on.event({ event: event || 'message', data: data.join('\n'), id: this.lastEventId });
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? '' : line.slice(colon + 1);
        if (val.startsWith(' ')) val = val.slice(1);
        if (field === 'event') event = val;
        else if (field === 'data') data.push(val);
        else if (field === 'id' && !val.includes('\0')) this.lastEventId = val;
        else if (field === 'retry' && /^\d+$/.test(val)) this.retryMs = Math.min(60000, Math.max(500, parseInt(val, 10)));
      }
      if (buf.length > 1 << 20) throw new Error('an event over 1 MiB'); // a runaway line: drop and reconnect
    }
  }
}
