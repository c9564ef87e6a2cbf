// Live updates pushed by the server: one event stream on /api/v1/stream (sse.ts). `tick` events make the
// visible page refresh; `alerts` and `incidents` events update the header's counters. When the
// stream cannot be opened the app falls back to polling, and says so in the header.

import { EventStream, type SseEvent } from './sse';

export interface AlertCounts { firing: number; pending: number }

type Listener<T> = (v: T) => void;

export class Live {
  private source: EventStream | null = null;
  private retryTimer = 0;
  private ticks = new Set<Listener<number>>();
  private alertListeners = new Set<Listener<AlertCounts>>();
  private incidentListeners = new Set<Listener<number>>();
  private stateListeners = new Set<Listener<string>>();
  private pollTimer: number | null = null;
  state: 'connecting' | 'live' | 'polling' | 'paused' = 'connecting';
  alerts: AlertCounts | null = null;
  openIncidents: number | null = null;

  constructor(private intervalSec = 5) {}

  start(): void {
    this.connect();
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) return;
      this.emitTick(Date.now() / 1000); // catch up at once when the tab comes back
    });
  }

  private connect(): void {
    this.setState('connecting');
    const stream = new EventStream(`/api/v1/stream?interval=${this.intervalSec}s`, {
      open: () => {
        this.stopPolling();
        this.setState('live');
      },
      event: (e) => this.onEvent(e),
      dropped: () => this.startPolling(), // retried by the stream; poll meanwhile
      refused: () => {
        // An older server (404), or a token without read access (401/403; the shell asks for
        // one): poll, and try the stream again later.
        this.source = null;
        this.startPolling();
        this.retryTimer = window.setTimeout(() => this.connect(), 30000);
      },
    });
    this.source = stream;
    stream.start();
  }

  private onEvent(e: SseEvent): void {
    switch (e.event) {
      case 'tick': {
        const t = safeJson<{ time?: number }>(e.data);
        this.emitTick(t?.time ?? Date.now() / 1000);
        break;
      }
      case 'alerts': {
        const a = safeJson<AlertCounts>(e.data);
        if (a) {
          this.alerts = a;
          for (const l of this.alertListeners) l(a);
        }
        break;
      }
      case 'incidents': {
        const a = safeJson<{ open: number }>(e.data);
        if (a) {
          this.openIncidents = a.open;
          for (const l of this.incidentListeners) l(a.open);
        }
        break;
      }
    }
  }

  private startPolling(): void {
    if (this.pollTimer !== null) return;
    this.setState('polling');
    this.pollTimer = window.setInterval(() => this.emitTick(Date.now() / 1000), this.intervalSec * 2000);
  }

  // Opens the stream again (after the user gave a token, say).
  restart(): void {
    this.stop();
    this.connect();
  }

  // Closes the stream (the app keeps one for its lifetime).
  stop(): void {
    this.source?.stop();
    this.source = null;
    window.clearTimeout(this.retryTimer);
    this.stopPolling();
  }

  private stopPolling(): void {
    if (this.pollTimer !== null) window.clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private emitTick(t: number): void {
    if (document.hidden) return;
    for (const l of this.ticks) l(t);
  }

  private setState(s: Live['state']): void {
    this.state = s;
    for (const l of this.stateListeners) l(s);
  }

  // Each returns a function that removes the listener.
  onTick(l: Listener<number>): () => void { this.ticks.add(l); return () => this.ticks.delete(l); }
  onAlerts(l: Listener<AlertCounts>): () => void { this.alertListeners.add(l); return () => this.alertListeners.delete(l); }
  onIncidents(l: Listener<number>): () => void { this.incidentListeners.add(l); return () => this.incidentListeners.delete(l); }
  onState(l: Listener<string>): () => void { this.stateListeners.add(l); return () => this.stateListeners.delete(l); }
}

function safeJson<T>(s: string): T | null {
  try {
    return JSON.parse(s) as T;
  } catch {
    return null;
  }
}
