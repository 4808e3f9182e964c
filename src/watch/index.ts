/** watch/: follow on a schedule, each run's outcome counted, failures summarised by what the evidence says. The public surface. */
export { watch, DEFAULT_KEEP, DEFAULT_EVERY_MS, type WatchOptions, type WatchRun, type WatchEnd } from './watch.js';
export { runOnSchedule, nextDelayMs, DEFAULT_JITTER, DEFAULT_GRACE_MS, type ScheduleOptions, type ScheduleEnd } from './schedule.js';
export { runOutcome, failingRequests, howId, addressFamily, type RunOutcome, type RequestOutcome, type AnsweredBy, type TargetRef, type RequestTarget } from './outcome.js';
export { WatchTally, MAX_FAILURE_GROUPS, MAX_TARGETS, OTHER_TARGET, type WatchSummary, type FailureGroup, type NodeTally, type NodeRef, type TargetTally } from './tally.js';
export { RecentResults } from './recent.js';
export { runLine, summaryText, howText, LAYER_NOUNS } from './words.js';
