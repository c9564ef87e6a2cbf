// Live updates pushed by the server: one EventSource on /api/v1/stream. `tick` events make the
// visible page refresh; `alerts` and `incidents` events update the header's counters. When the
// stream cannot be opened the app falls back to polling, and says so in the header.

export interface AlertCounts { firing: number; pending: number }

type Listener<T> = (v: T) => void;

export class Live {
  private source: EventSource | null = null;
  private ticks = new Set<Listener<number>>();
  private alertListeners = new Set<Listener<AlertCounts>>();
  private incidentListeners = new Set<Listener<number>>();
  private stateListeners = new Set<Listener<string>>();
  private pollTimer: number | null = null;
  private failures = 0;
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
    const es = new EventSource(`/api/v1/stream?interval=${this.intervalSec}s`);
    this.source = es;
    es.addEventListener('open', () => {
      this.failures = 0;
      this.stopPolling();
      this.setState('live');
    });
    es.addEventListener('tick', (e) => {
      const t = safeJson<{ time?: number }>((e as MessageEvent).data);
      this.emitTick(t?.time ?? Date.now() / 1000);
    });
    es.addEventListener('alerts', (e) => {
      const a = safeJson<AlertCounts>((e as MessageEvent).data);
      if (a) {
        this.alerts = a;
        for (const l of this.alertListeners) l(a);
      }
    });
    es.addEventListener('incidents', (e) => {
      const a = safeJson<{ open: number }>((e as MessageEvent).data);
      if (a) {
        this.openIncidents = a.open;
        for (const l of this.incidentListeners) l(a.open);
      }
    });
    es.addEventListener('error', () => {
      // EventSource reconnects by itself; after repeated failures poll instead and retry later.
      // A stream answered with an error status (404 from an older server, 503 when the server's
      // stream slots are taken) is closed for good at once: poll then, without waiting for more.
      this.failures++;
      if (es.readyState === EventSource.CLOSED || this.failures >= 3) {
        es.close();
        this.source = null;
        this.startPolling();
        window.setTimeout(() => this.connect(), 30000);
      }
    });
  }

  private startPolling(): void {
    if (this.pollTimer !== null) return;
    this.setState('polling');
    this.pollTimer = window.setInterval(() => this.emitTick(Date.now() / 1000), this.intervalSec * 2000);
  }

  // Closes the stream (the app keeps one for its lifetime; tests and a future logout use this).
  stop(): void {
    this.source?.close();
    this.source = null;
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
