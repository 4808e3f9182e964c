/**
 * The lab's certificates, made at `lab up` with the openssl CLI: a CA and a server
 * certificate for the domain (SANs: the domain, www.<domain>, both ALB public addresses),
 * signed by the CA. P-256 keys: fast to make, what a modern ALB certificate uses.
 */
import fs from 'node:fs';
import path from 'node:path';
import { LAB } from './topology.js';
import { runChecked } from './system.js';

export interface LabPki {
  caFile: string;
  certFile: string;
  keyFile: string;
}

export async function makePki(dir: string = LAB.runDir): Promise<LabPki> {
  const caKey = path.join(dir, 'ca.key');
  const caFile = path.join(dir, 'ca.pem');
  const keyFile = path.join(dir, 'server.key');
  const csr = path.join(dir, 'server.csr');
  const certFile = path.join(dir, 'server.pem');
  const ext = path.join(dir, 'server.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await Promise.all([
    runChecked(['openssl', 'req', '-x509', ...ec, '-keyout', caKey, '-out', caFile, '-days', '30',
      '-subj', '/O=flowtrace lab/CN=flowtrace lab CA',
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], 'making the lab CA'),
    runChecked(['openssl', 'req', '-new', ...ec, '-keyout', keyFile, '-out', csr, '-subj', `/CN=${LAB.domain}`], 'making the server key'),
  ]);
  fs.writeFileSync(ext, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=DNS:${LAB.domain},DNS:www.${LAB.domain},IP:${LAB.albA.public},IP:${LAB.albB.public}`,
    '',
  ].join('\n'));
  await runChecked(['openssl', 'x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial',
    '-out', certFile, '-days', '30', '-extfile', ext], 'signing the server certificate');
  fs.chmodSync(caKey, 0o600);
  fs.chmodSync(keyFile, 0o600);
  return { caFile, certFile, keyFile };
}
