/**
 * Every example of AWS's "Access logs for your Application Load Balancer" page parses into
 * the fields the page describes. Fixtures written from the page's "Example log entries"
 * (each on one line, as ELB writes them), in the page's two layouts:
 *  - today's: 30 documented fields (target:port_list and target_status_code_list quoted,
 *    conn_trace_id), then fields added later (transformed_host, transformed_uri,
 *    request_transform_status), which a reader must ignore;
 *  - the page before conn_trace_id: 29 fields, the two target lists printed unquoted.
 * And the example file name of the "Access log files" section.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAccessLogLine, parseLogFileName, traceRootOf, accessLogMs, logFileKey } from '../../src/alb-log/index.js';

const TG = 'arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067';
const CERT = 'arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012';

/** Today's page. */
const CURRENT = {
  http: `http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - ${TG} "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90 "-" "-" "-"`,
  https: `https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ${TG} "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "${CERT}" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" "10.0.0.1:80" "200" "-" "-" TID_1234abcd5678ef90 "m.example.com" "-" "TransformSuccess"`,
  h2: `h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 10.0.0.66:9000 0.000 0.002 0.000 200 200 5 257 "GET https://10.0.2.105:773/ HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ${TG} "Root=1-58337327-72bd00b0343d75b906739c42" "-" "-" 1 2018-07-02T22:22:48.364000Z "redirect" "https://example.com:80/" "-" "10.0.0.66:9000" "200" "-" "-" TID_1234abcd5678ef90 "-" "-" "-"`,
  ws: `ws 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:40914 10.0.1.192:8010 0.001 0.003 0.000 101 101 218 587 "GET http://10.0.0.30:80/ HTTP/1.1" "-" - - ${TG} "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.1.192:8010" "101" "-" "-" TID_1234abcd5678ef90 "-" "-" "-"`,
  wss: `wss 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:44244 10.0.0.171:8010 0.000 0.001 0.000 101 101 218 786 "GET https://10.0.0.30:443/ HTTP/1.1" "-" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ${TG.replace('us-east-2', 'us-west-2')} "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.171:8010" "101" "-" "-" TID_1234abcd5678ef90 "-" "-" "-"`,
  lambda: `http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - ${TG} "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "-" "-" "-" "-" "-" TID_1234abcd5678ef90 "-" "-" "-"`,
  lambdaFailed: `http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - ${TG} "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-" TID_1234abcd5678ef90 "-" "-" "-"`,
};

/** The page before conn_trace_id: 29 fields, the target lists unquoted. */
const BEFORE = {
  http: `http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - ${TG} "Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" 10.0.0.1:80 200 "-" "-"`,
  https: `https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ${TG} "Root=1-58337281-1d84f3d73c47ec4e58577259" "www.example.com" "${CERT}" 1 2018-07-02T22:22:48.364000Z "authenticate,forward" "-" "-" 10.0.0.1:80 200 "-" "-"`,
  h2: `h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 10.0.0.66:9000 0.000 0.002 0.000 200 200 5 257 "GET https://10.0.2.105:773/ HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ${TG} "Root=1-58337327-72bd00b0343d75b906739c42" "-" "-" 1 2018-07-02T22:22:48.364000Z "redirect" "https://example.com:80/" "-" 10.0.0.66:9000 200 "-" "-"`,
  ws: `ws 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:40914 10.0.1.192:8010 0.001 0.003 0.000 101 101 218 587 "GET http://10.0.0.30:80/ HTTP/1.1" "-" - - ${TG} "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" 10.0.1.192:8010 101 "-" "-"`,
  wss: `wss 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:44244 10.0.0.171:8010 0.000 0.001 0.000 101 101 218 786 "GET https://10.0.0.30:443/ HTTP/1.1" "-" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 ${TG.replace('us-east-2', 'us-west-2')} "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 1 2018-07-02T22:22:48.364000Z "forward" "-" "-" 10.0.0.171:8010 101 "-" "-"`,
  lambda: `http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - ${TG} "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "-" "-" "-" "-" "-"`,
  lambdaFailed: `http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - ${TG} "Root=1-58337364-23a8c76965a2ef7629b185e3" "-" "-" 0 2018-11-30T22:22:48.364000Z "forward" "-" "LambdaInvalidResponse" "-" "-" "-" "-"`,
};

for (const [page, lines] of [['today\'s page', CURRENT], ['the page before conn_trace_id', BEFORE]] as const) {
  test(`every example of ${page} parses, with the fields the page describes`, () => {
    for (const [name, line] of Object.entries(lines)) assert.ok(parseAccessLogLine(line), `${name}: ${line}`);
    const http = parseAccessLogLine(lines.http)!;
    assert.deepEqual([http.type, http.time, http.elb, http.client, http.target], ['http', '2018-07-02T22:23:00.186641Z', 'app/my-loadbalancer/50dc6c495c0c9188', '192.168.131.39:2817', '10.0.0.1:80']);
    assert.deepEqual([http.requestProcessingTime, http.targetProcessingTime, http.responseProcessingTime], [0, 0.001, 0]);
    assert.deepEqual([http.elbStatusCode, http.targetStatusCode, http.receivedBytes, http.sentBytes], [200, 200, 34, 366]);
    assert.equal(http.request, 'GET http://www.example.com:80/ HTTP/1.1');
    assert.equal(http.userAgent, 'curl/7.46.0');
    assert.deepEqual([http.sslCipher, http.sslProtocol, http.domainName, http.chosenCertArn], [null, null, null, null]);
    assert.equal(http.targetGroupArn, TG);
    assert.equal(traceRootOf(http.traceId), '1-58337262-36d228ad5d99923122bbe354');
    assert.deepEqual([http.matchedRulePriority, http.requestCreationTime, http.actionsExecuted, http.redirectUrl, http.errorReason], ['0', '2018-07-02T22:22:48.364000Z', 'forward', null, null]);
    assert.deepEqual([http.targetPortList, http.targetStatusCodeList, http.classification, http.classificationReason], ['10.0.0.1:80', '200', null, null]);
    assert.equal(http.connTraceId, page === 'today\'s page' ? 'TID_1234abcd5678ef90' : null);
    assert.equal(accessLogMs(http.time), Date.UTC(2018, 6, 2, 22, 23, 0, 186));

    const https = parseAccessLogLine(lines.https)!;
    assert.deepEqual([https.type, https.sslCipher, https.sslProtocol, https.domainName, https.chosenCertArn], ['https', 'ECDHE-RSA-AES128-GCM-SHA256', 'TLSv1.2', 'www.example.com', CERT]);
    assert.deepEqual([https.requestProcessingTime, https.targetProcessingTime, https.responseProcessingTime], [0.086, 0.048, 0.037]);
    assert.deepEqual([https.matchedRulePriority, https.actionsExecuted], ['1', 'authenticate,forward']);

    const h2 = parseAccessLogLine(lines.h2)!;
    assert.deepEqual([h2.type, h2.request, h2.actionsExecuted, h2.redirectUrl, h2.target], ['h2', 'GET https://10.0.2.105:773/ HTTP/2.0', 'redirect', 'https://example.com:80/', '10.0.0.66:9000']);

    for (const ws of [parseAccessLogLine(lines.ws)!, parseAccessLogLine(lines.wss)!]) {
      assert.equal(ws.elbStatusCode, 101);
      assert.equal(ws.userAgent, null, '"-" user agent');
      assert.equal(ws.targetStatusCodeList, '101');
    }
    assert.equal(parseAccessLogLine(lines.wss)!.targetGroupArn, TG.replace('us-east-2', 'us-west-2'));

    const lambda = parseAccessLogLine(lines.lambda)!;
    assert.deepEqual([lambda.target, lambda.targetPortList, lambda.targetStatusCodeList, lambda.elbStatusCode], [null, null, null, 200]);
    const failed = parseAccessLogLine(lines.lambdaFailed)!;
    assert.deepEqual([failed.elbStatusCode, failed.targetStatusCode, failed.errorReason, failed.target], [502, null, 'LambdaInvalidResponse', null]);
  });
}

test('the example file name of "Access log files": account, region, load balancer, interval end, node address', () => {
  const key = 'prefix/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz';
  const f = parseLogFileName(key)!;
  assert.deepEqual(f, {
    account: '123456789012', region: 'us-east-2', loadBalancer: 'app/my-loadbalancer/1234567890abcdef',
    intervalEndMs: Date.UTC(2014, 1, 15, 23, 40), nodeAddress: '172.160.1.192', random: '20sg8hgm',
  });
  // The file of one node and interval, written back (the date folder is the interval's).
  assert.equal(logFileKey({ prefix: 'prefix', ...f, nodeAddress: '172.160.001.192' }),
    'prefix/AWSLogs/123456789012/elasticloadbalancing/us-east-2/2014/02/15/123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz');
  assert.equal(parseLogFileName('alb-a.access.log'), null);
  assert.equal(parseLogFileName('123456789012_elasticloadbalancing_us-east-2_app.x.1_2014021T2340Z_1.2.3.4_a.log.gz'), null, 'a bad end time');
});
