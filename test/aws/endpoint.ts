/**
 * A local AWS endpoint (127.0.0.1 only) for the SDK's clients: answers each Query-protocol
 * call (EC2 and Elastic Load Balancing v2 both POST `Action=…&Version=…` forms) with the
 * recorded XML in test/data/aws-api, and remembers every call it got (to check they are
 * read-only, signed, paginated, filtered).
 */
import http from 'node:http';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const RECORDED = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'aws-api');

export interface Call { action: string; params: URLSearchParams; authorization: string }

export interface FakeAws {
  url: string;
  calls: Call[];
  /** Actions answered with an error instead: status and the error's code and message. */
  failures: Map<string, { status: number; code: string; message: string }>;
  close(): Promise<void>;
}

const responses = new Map(readdirSync(RECORDED).filter((f) => f.endsWith('.xml')).map((f) => [f.slice(0, -4), readFileSync(path.join(RECORDED, f), 'utf8')]));

/** The file for a call: `ACTION.KEY` for per-resource calls, `.page2` after a first page's marker. */
function bodyFor(action: string, p: URLSearchParams): string | null {
  const last = (v: string | null): string | null => (v ? v.split('/').pop()! : null);
  const key = last(p.get('ListenerArn')) ?? last(p.get('TargetGroupArn')) ?? p.get('PrefixListId');
  const page = p.get('Marker') ?? p.get('NextToken');
  const name = `${action}${key ? `.${key}` : ''}${page ? '.page2' : ''}`;
  return responses.get(name) ?? (key && !page ? null : responses.get(action) ?? null);
}

function errorXml(action: string, code: string, message: string): string {
  // EC2 answers errors in <Response><Errors>; Elastic Load Balancing in <ErrorResponse>.
  return /^(Describe(Instances|SecurityGroups|NetworkAcls|RouteTables|Subnets|NetworkInterfaces)|GetManagedPrefixListEntries)$/.test(action)
    ? `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>0a1b2c3d-EXAMPLE</RequestID></Response>`
    : `<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>0a1b2c3d-EXAMPLE</RequestId></ErrorResponse>`;
}

export function startFakeAws(): Promise<FakeAws> {
  const calls: Call[] = [];
  const failures = new Map<string, { status: number; code: string; message: string }>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      const action = params.get('Action') ?? '';
      calls.push({ action, params, authorization: String(req.headers.authorization ?? '') });
      const failure = failures.get(action);
      if (failure) {
        res.writeHead(failure.status, { 'content-type': 'text/xml' });
        res.end(errorXml(action, failure.code, failure.message));
        return;
      }
      const body = bodyFor(action, params);
      if (body === null) {
        res.writeHead(400, { 'content-type': 'text/xml' });
        res.end(errorXml(action, 'InvalidParameterValue', `no recorded answer for ${action} ${params.toString()}`));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8' });
      res.end(body);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}`, calls, failures, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

/** Credentials and settings that keep the SDK on the loopback endpoint: no instance metadata, no profile files. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIAFLOWTRACETEST0000', secretAccessKey: 'flowtrace/test/secret/not/a/real/key/000' };
