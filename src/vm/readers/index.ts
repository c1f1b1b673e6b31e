/** User-space readers of the vm's event maps. */
export { RingBufReader, type RawRecordCallback, type RecordCallback } from "./ringbuf.js";
export { PerfBufReader, type PerfRecord, type PerfCallbacks, type PerfBufReaderOptions } from "./perf.js";
export { Wakeups } from "./wakeups.js";
