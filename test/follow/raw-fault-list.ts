/**
 * Faults the lab's fault list does not know, each one raw command — how it is injected and
 * undone, and what the verdict must say (read by raw-faults.test.ts live, and by
 * verdict.test.ts from the recorded results).
 */
import { LAB } from '../../src/lab/index.js';
import { inNode, servicePid } from './lab-follow.js';
import type { Expected } from './expected.js';

export interface RawFault extends Expected {
  /** Also the name of its recorded result, test/data/follow/raw-NAME.json. */
  name: string;
  what: string;
  inject(): void;
  heal(): void;
}

const NFT_REPLY_DROP = 'table inet ftraw_fw {\n  chain fw {\n    type filter hook forward priority -5; policy accept;\n    oifname "ens5" tcp sport 8080 counter drop\n  }\n}\n';
const NFT_VPC_TO_INSTANCE = 'table bridge ftraw_sg {\n  chain fw {\n    type filter hook forward priority 0; policy accept;\n    ip daddr 172.31.5.20 tcp dport 80 counter drop\n  }\n}\n';
const NFT_VPC_REPLIES = 'table bridge ftraw_nacl {\n  chain fw {\n    type filter hook forward priority 0; policy accept;\n    ip saddr 172.31.5.20 tcp sport 80 tcp dport 1024-65535 counter drop\n  }\n}\n';
const WRONG_MAC = '02:00:00:00:00:99';

export const RAW_FAULTS: RawFault[] = [
  {
    name: 'nft-reply-drop', what: 'nft drops the container\'s replies on their way out (native nftables, inet family)',
    inject: () => inNode('ec2', ['nft', '-f', '-'], NFT_REPLY_DROP),
    heal: () => inNode('ec2', ['nft', 'delete', 'table', 'inet', 'ftraw_fw']),
    layer: 'container', cause: 'dropped-by-rule', direction: 'reply', text: /oifname "ens5" tcp sport 8080 .*drop.*counted \d+ packet/,
  },
  {
    name: 'docker-user-reply-drop', what: 'DOCKER-USER drops what leaves docker0 for ens5',
    inject: () => inNode('ec2', ['iptables', '-I', 'DOCKER-USER', '-i', 'docker0', '-o', 'ens5', '-p', 'tcp', '--sport', '8080', '-j', 'DROP']),
    heal: () => inNode('ec2', ['iptables', '-D', 'DOCKER-USER', '-i', 'docker0', '-o', 'ens5', '-p', 'tcp', '--sport', '8080', '-j', 'DROP']),
    layer: 'container', cause: 'dropped-by-rule', direction: 'reply', text: /-A DOCKER-USER -i docker0 -o ens5 .*-j DROP.*counted \d+ packet/,
  },
  {
    name: 'host-blackhole-one-node', what: 'the instance has a blackhole route to one load-balancer node',
    inject: () => inNode('ec2', ['ip', 'route', 'add', 'blackhole', `${LAB.albB.vpc}/32`]),
    heal: () => inNode('ec2', ['ip', 'route', 'del', 'blackhole', `${LAB.albB.vpc}/32`]),
    layer: 'container', cause: 'no-route', direction: 'reply', text: new RegExp(`ip route get ${LAB.albB.vpc.replace(/\./g, '\\.')}.*blackhole`), partialNode: 'alb-b',
  },
  {
    name: 'container-no-default-route', what: 'the container has no route back (default route deleted)',
    inject: () => inNode('container', ['ip', 'route', 'del', 'default']),
    heal: () => inNode('container', ['ip', 'route', 'add', 'default', 'via', LAB.docker0]),
    layer: 'container', cause: 'no-route', direction: 'reply', text: /ip route get 172\.31\.\d+\.\d+` in ft-container.*no route/,
  },
  {
    name: 'app-sigstop', what: 'the application is hung (SIGSTOP)',
    inject: () => process.kill(servicePid('app'), 'SIGSTOP'),
    heal: () => process.kill(servicePid('app'), 'SIGCONT'),
    layer: 'application', cause: 'no-response', direction: 'request', text: /no response came .* before the client closed the connection/,
  },
  {
    name: 'reject-tcp-reset', what: 'a REJECT with tcp-reset for the container port',
    inject: () => inNode('ec2', ['iptables', '-I', 'DOCKER-USER', '-p', 'tcp', '--dport', '8080', '-j', 'REJECT', '--reject-with', 'tcp-reset']),
    heal: () => inNode('ec2', ['iptables', '-D', 'DOCKER-USER', '-p', 'tcp', '--dport', '8080', '-j', 'REJECT', '--reject-with', 'tcp-reset']),
    layer: 'container', cause: 'rejected-by-rule', direction: 'request', text: /host itself answered RST.*REJECT rule `-A DOCKER-USER -p tcp -m tcp --dport 8080 -j REJECT/,
  },
  {
    name: 'docker0-down', what: 'the docker0 bridge is down',
    inject: () => inNode('ec2', ['ip', 'link', 'set', 'docker0', 'down']),
    heal: () => { inNode('ec2', ['ip', 'link', 'set', 'docker0', 'up']); inNode('ec2', ['ip', 'neigh', 'flush', 'dev', 'docker0']); },
    layer: 'container', cause: 'link-down', direction: 'request', text: /docker0 is down/,
  },
  {
    name: 'vpc-drops-to-instance', what: 'the VPC drops everything to the instance (a bridge filter, not the lab\'s security group)',
    inject: () => inNode('vpc', ['nft', '-f', '-'], NFT_VPC_TO_INSTANCE),
    heal: () => inNode('vpc', ['nft', 'delete', 'table', 'bridge', 'ftraw_sg']),
    layer: 'instance', cause: 'not-at-instance', direction: 'request', text: /nothing of the request reached the instance/,
  },
  {
    name: 'vpc-drops-replies', what: 'the VPC drops the instance\'s replies to ephemeral ports',
    inject: () => inNode('vpc', ['nft', '-f', '-'], NFT_VPC_REPLIES),
    heal: () => inNode('vpc', ['nft', 'delete', 'table', 'bridge', 'ftraw_nacl']),
    layer: 'instance', cause: 'lost-after-host', direction: 'reply', text: /left by ens5 \(out\) and never arrived/,
  },
  {
    name: 'alb-node-link-down', what: 'one load-balancer node loses its link',
    inject: () => inNode('alb-b', ['ip', 'link', 'set', 'eth0', 'down']),
    heal: () => { inNode('alb-b', ['ip', 'link', 'set', 'eth0', 'up']); inNode('alb-b', ['ip', 'route', 'replace', 'default', 'via', LAB.routers.awsedge.toAlbB]); },
    layer: 'loadBalancer', cause: 'lb-node-unreachable', direction: 'request', text: /alb-b .*does not answer/, partialNode: 'alb-b',
  },
  {
    name: 'neighbour-wrong-mac', what: 'the host\'s neighbour entry for the container names a wrong MAC',
    inject: () => inNode('ec2', ['ip', 'neigh', 'replace', LAB.container.address, 'lladdr', WRONG_MAC, 'dev', 'docker0', 'nud', 'permanent']),
    heal: () => { inNode('ec2', ['ip', 'neigh', 'del', LAB.container.address, 'dev', 'docker0']); },
    layer: 'container', cause: 'neighbour-failed', direction: 'request', text: new RegExp(`neighbour entry for 172\\.17\\.0\\.2 on docker0 says ${WRONG_MAC}`),
  },
];

