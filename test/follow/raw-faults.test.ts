/**
 * Faults the lab's fault list does not know, injected the way real systems break — one raw
 * `iptables`, `nft`, `ip` or `kill` command — and the verdict `follow` must give: the layer,
 * the direction that broke, the cause id, and the evidence named in the cause (the rule's
 * text, the route, the link…). The verdict reads evidence, so none of these was written for.
 *
 * Needs root (network namespaces): one lab for all, each fault undone right after its run.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { labUp, labDown, healFault, LAB } from '../../src/lab/index.js';
import { FOLLOW_EXIT } from '../../src/errors.js';
import type { LayerId } from '../../src/follow/index.js';
import { followInClient, inNode, isRoot, servicePid, verdictLine } from './lab-follow.js';

interface RawFault {
  name: string;
  inject(): void;
  heal(): void;
  layer: LayerId;
  causeId: string;
  direction: 'request' | 'reply';
  /** What the cause must name (the evidence). */
  text: RegExp;
  /** Set when only one load-balancer node fails. */
  partialNode?: string;
}

const NFT_REPLY_DROP = 'table inet ftraw_fw {\n  chain fw {\n    type filter hook forward priority -5; policy accept;\n    oifname "ens5" tcp sport 8080 counter drop\n  }\n}\n';
const NFT_VPC_TO_INSTANCE = 'table bridge ftraw_sg {\n  chain fw {\n    type filter hook forward priority 0; policy accept;\n    ip daddr 172.31.5.20 tcp dport 80 counter drop\n  }\n}\n';
const NFT_VPC_REPLIES = 'table bridge ftraw_nacl {\n  chain fw {\n    type filter hook forward priority 0; policy accept;\n    ip saddr 172.31.5.20 tcp sport 80 tcp dport 1024-65535 counter drop\n  }\n}\n';
const WRONG_MAC = '02:00:00:00:00:99';

const FAULTS: RawFault[] = [
  {
    name: 'nft drops the container\'s replies on their way out (native nftables, inet family)',
    inject: () => inNode('ec2', ['nft', '-f', '-'], NFT_REPLY_DROP),
    heal: () => inNode('ec2', ['nft', 'delete', 'table', 'inet', 'ftraw_fw']),
    layer: 'container', causeId: 'dropped-by-rule', direction: 'reply', text: /oifname "ens5" tcp sport 8080 .*drop.*counted \d+ packet/,
  },
  {
    name: 'DOCKER-USER drops what leaves docker0 for ens5',
    inject: () => inNode('ec2', ['iptables', '-I', 'DOCKER-USER', '-i', 'docker0', '-o', 'ens5', '-p', 'tcp', '--sport', '8080', '-j', 'DROP']),
    heal: () => inNode('ec2', ['iptables', '-D', 'DOCKER-USER', '-i', 'docker0', '-o', 'ens5', '-p', 'tcp', '--sport', '8080', '-j', 'DROP']),
    layer: 'container', causeId: 'dropped-by-rule', direction: 'reply', text: /-A DOCKER-USER -i docker0 -o ens5 .*-j DROP.*counted \d+ packet/,
  },
  {
    name: 'the instance has a blackhole route to one load-balancer node',
    inject: () => inNode('ec2', ['ip', 'route', 'add', 'blackhole', `${LAB.albB.vpc}/32`]),
    heal: () => inNode('ec2', ['ip', 'route', 'del', 'blackhole', `${LAB.albB.vpc}/32`]),
    layer: 'container', causeId: 'no-route', direction: 'reply', text: new RegExp(`ip route get ${LAB.albB.vpc.replace(/\./g, '\\.')}.*blackhole`), partialNode: 'alb-b',
  },
  {
    name: 'the container has no route back (default route deleted)',
    inject: () => inNode('container', ['ip', 'route', 'del', 'default']),
    heal: () => inNode('container', ['ip', 'route', 'add', 'default', 'via', LAB.docker0]),
    layer: 'container', causeId: 'no-route', direction: 'reply', text: /ip route get 172\.31\.\d+\.\d+` in ft-container.*no route/,
  },
  {
    name: 'the application is hung (SIGSTOP)',
    inject: () => process.kill(servicePid('app'), 'SIGSTOP'),
    heal: () => process.kill(servicePid('app'), 'SIGCONT'),
    layer: 'application', causeId: 'no-response', direction: 'request', text: /no response came .* before the client closed the connection/,
  },
  {
    name: 'a REJECT with tcp-reset for the container port',
    inject: () => inNode('ec2', ['iptables', '-I', 'DOCKER-USER', '-p', 'tcp', '--dport', '8080', '-j', 'REJECT', '--reject-with', 'tcp-reset']),
    heal: () => inNode('ec2', ['iptables', '-D', 'DOCKER-USER', '-p', 'tcp', '--dport', '8080', '-j', 'REJECT', '--reject-with', 'tcp-reset']),
    layer: 'container', causeId: 'rejected-by-rule', direction: 'request', text: /host itself answered RST.*REJECT rule `-A DOCKER-USER -p tcp -m tcp --dport 8080 -j REJECT/,
  },
  {
    name: 'the docker0 bridge is down',
    inject: () => inNode('ec2', ['ip', 'link', 'set', 'docker0', 'down']),
    heal: () => { inNode('ec2', ['ip', 'link', 'set', 'docker0', 'up']); inNode('ec2', ['ip', 'neigh', 'flush', 'dev', 'docker0']); },
    layer: 'container', causeId: 'link-down', direction: 'request', text: /docker0 is down/,
  },
  {
    name: 'the VPC drops everything to the instance (a bridge filter, not the lab\'s security group)',
    inject: () => inNode('vpc', ['nft', '-f', '-'], NFT_VPC_TO_INSTANCE),
    heal: () => inNode('vpc', ['nft', 'delete', 'table', 'bridge', 'ftraw_sg']),
    layer: 'instance', causeId: 'not-at-instance', direction: 'request', text: /nothing of the request reached the instance/,
  },
  {
    name: 'the VPC drops the instance\'s replies to ephemeral ports',
    inject: () => inNode('vpc', ['nft', '-f', '-'], NFT_VPC_REPLIES),
    heal: () => inNode('vpc', ['nft', 'delete', 'table', 'bridge', 'ftraw_nacl']),
    layer: 'instance', causeId: 'lost-after-host', direction: 'reply', text: /left by ens5 \(out\) and never arrived/,
  },
  {
    name: 'one load-balancer node loses its link',
    inject: () => inNode('alb-b', ['ip', 'link', 'set', 'eth0', 'down']),
    heal: () => { inNode('alb-b', ['ip', 'link', 'set', 'eth0', 'up']); inNode('alb-b', ['ip', 'route', 'replace', 'default', 'via', LAB.routers.awsedge.toAlbB]); },
    layer: 'loadBalancer', causeId: 'lb-node-unreachable', direction: 'request', text: /alb-b .*does not answer/, partialNode: 'alb-b',
  },
  {
    name: 'the host\'s neighbour entry for the container names a wrong MAC',
    inject: () => inNode('ec2', ['ip', 'neigh', 'replace', LAB.container.address, 'lladdr', WRONG_MAC, 'dev', 'docker0', 'nud', 'permanent']),
    heal: () => { inNode('ec2', ['ip', 'neigh', 'del', LAB.container.address, 'dev', 'docker0']); },
    layer: 'container', causeId: 'neighbour-failed', direction: 'request', text: new RegExp(`neighbour entry for 172\\.17\\.0\\.2 on docker0 says ${WRONG_MAC}`),
  },
];

/** After a heal: the lab answers through both nodes again (a bridge back up re-learns its neighbours…). */
async function settle(): Promise<void> {
  for (let i = 0; i < 25; i++) {
    const a = spawnSync('ip', ['netns', 'exec', 'ft-client', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '2', '--resolve', `${LAB.domain}:80:${LAB.albA.public}`, `http://${LAB.domain}/`], { encoding: 'utf8' });
    const b = spawnSync('ip', ['netns', 'exec', 'ft-client', 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '-m', '2', '--resolve', `${LAB.domain}:80:${LAB.albB.public}`, `http://${LAB.domain}/`], { encoding: 'utf8' });
    if (a.stdout === '200' && b.stdout === '200') return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the lab did not answer 200 through both nodes after a heal');
}

let builtByUs = false;

before(async () => {
  if (!isRoot) return;
  const s = await labUp();
  builtByUs = !s.alreadyUp;
  await healFault();
});

after(async () => {
  if (!isRoot) return;
  if (builtByUs) await labDown();
});

test('faults injected by raw commands, unknown to the lab: layer, direction, cause and its evidence', { skip: isRoot ? false : 'needs root (network namespaces): run as root, as CI does' }, async () => {
  const lines: string[] = [];
  let correct = 0;
  for (const f of FAULTS) {
    f.inject();
    let run;
    try { run = await followInClient(); } finally { f.heal(); await settle(); }
    const v = run.result?.verdict;
    const text = v ? `${v.cause ?? ''}` : '';
    const partialOk = f.partialNode ? v?.partial?.failing.some((x) => x.node === f.partialNode) === true && v.partial.failing.length === 1 : v?.partial === null;
    const ok = !!v && v.firstFailing === f.layer && v.causeId === f.causeId && v.direction === f.direction && f.text.test(text) && partialOk && run.code === FOLLOW_EXIT[f.layer];
    if (ok) correct++;
    lines.push(`${ok ? 'ok  ' : 'FAIL'} ${verdictLine(f.name, run)}${ok ? '' : `\n      want ${f.layer} / ${f.causeId} / ${f.direction}${f.partialNode ? ` (partial ${f.partialNode})` : ''}, text ${f.text}`}`);
  }
  const again = await followInClient();
  const summary = `${correct}/${FAULTS.length} raw faults diagnosed correctly`;
  console.log(`${lines.join('\n')}\n${summary}`);
  assert.equal(correct, FAULTS.length, `${summary}\n${lines.filter((l) => l.startsWith('FAIL')).join('\n')}`);
  assert.equal(again.code, 0, `healed lab answers again: ${again.result?.verdict.headline ?? again.stderr}`);
});
