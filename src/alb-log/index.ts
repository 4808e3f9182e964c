/**
 * alb-log/: an Application Load Balancer's access log — AWS's line format (one record type,
 * written and read by one module), ELB's file names, reading a file, a directory or an S3
 * prefix, and finding a request's line by its trace id. The public surface.
 */
export { formatAccessLogLine, parseAccessLogLine, accessLogTime, accessLogMs, traceRootOf, type AccessLogRecord } from './format.js';
export { parseLogFileName, logFileKey, intervalEndText, deliveryDays, DELIVERY_INTERVAL_MS, type AwsLogFileName } from './files.js';
export { scanAccessLogs, s3LogKeys, sdkS3Objects, parseS3Url, nodeOfFile, checkAccessLogSource, MAX_FILES, type AccessLogScan, type AccessLogFile, type FoundRecord, type S3Objects, type ScanOptions } from './source.js';
export { matchRequest, coverageOf, type AccessLogMatch } from './join.js';
