/** Chrome Trace Event records (the JSON Object Format Perfetto and chrome://tracing open). */
export interface TraceEvent {
  name: string;
  cat?: string;
  /** X complete slice, i instant, s/f flow start/end, M metadata. */
  ph: 'X' | 'i' | 's' | 'f' | 'M';
  /** Microseconds. */
  ts: number;
  dur?: number;
  pid?: number;
  tid?: number;
  id?: number;
  /** Flow end binds to the enclosing slice ('e'). */
  bp?: 'e';
  /** Instant scope: thread, process or global. */
  s?: 't' | 'p' | 'g';
  args?: Record<string, unknown>;
}

/** What one traced process writes: its events on its host's monotonic clock, and that clock's offset to rank 0's. */
export interface TracePart {
  host: string;
  pid: number;
  /** Track name, e.g. `rank 2` or `worker 41234`, and its position among the host's tracks. */
  thread: string;
  sortIndex: number;
  /** Add to every ts to get rank 0's clock (NTP-style estimate at rendezvous; 0 on rank 0's host). */
  offsetUs: number;
  /** Round trip of the best clock sample, an error bound of the offset (0 when not measured). */
  offsetRttUs: number;
  /** Whether offsetUs was measured (a rank on another host than rank 0's). */
  offsetMeasured: boolean;
  /** Wall clock minus the events' clock: dates the trace, and aligns a host whose offset was not measured. */
  wallMinusMonoUs: number;
  events: TraceEvent[];
}

export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, unknown>;
}
