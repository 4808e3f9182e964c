/**
 * The agentless path's pieces that need no server: the command list (what is sent, what is
 * refused before sending), the sudoers lines (valid for visudo, the same as docs/agent.md),
 * quoting for the remote shell, the preflight's parser, the runner's argv → command line
 * (with a scripted connection), lsns/docker parsers, and ssh's failures as one-line errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import {
  DEBIAN_PATHS, REMOTE_CAPTURE, captureArgv, classifySshFailure, findRemoteCommand, installHint, parsePreflight, parseSshTarget,
  parseBatch, remoteCommands, remoteRunner, shellLine, shellWord, sudoersLines, watchdogLine, type ExecResult, type RemoteHost, type SshConnection,
} from '../../src/remote/index.js';
import { parseDockerInspect, parseLsnsNet, parseNetnsListId, withNamedNamespaces } from '../../src/capture/index.js';

const list = remoteCommands(DEBIAN_PATHS);
const find = (argv: string[]): string | null => findRemoteCommand(list, argv[0]!, argv.slice(1))?.id ?? null;

test('every command host/ and capture/live run is on the list, under its id', () => {
  const accepted: Array<[string[], string]> = [
    [['timeout', ...captureArgv(DEBIAN_PATHS, '(port 80 or port 8080)').slice(1)], 'capture'],
    [['timeout', ...captureArgv(DEBIAN_PATHS, '(ifindex 4) and (port 80)').slice(1)], 'capture'],
    [['iptables-save', '-t', 'nat'], 'nat'],
    [['iptables-save', '-c'], 'iptables'],
    [['ip6tables-save', '-c'], 'ip6tables'],
    [['nft', '-j', 'list', 'ruleset'], 'nft'],
    [['ss', '-ltnHp'], 'listeners'],
    [['lsns', '-t', 'net', '-J', '-o', 'NS,PID,NETNSID,NSFS,COMMAND'], 'namespaces'],
    [['docker', 'ps', '-q', '--no-trunc'], 'docker-ps'],
    [['docker', 'inspect', '--format', '{{.Id}}|{{.State.Pid}}|{{.Name}}|{{.Config.Image}}', 'a'.repeat(64), 'b'.repeat(64)], 'docker-inspect'],
    [['ip', '-j', '-d', 'link', 'show'], 'links'],
    [['ip', '-j', '-d', 'addr', 'show'], 'links'],
    [['ip', '-j', 'neigh', 'show'], 'links'],
    [['ip', '-j', 'netns', 'list-id'], 'links'],
    [['ip', '-j', 'route', 'get', '172.31.0.10', 'from', '172.17.0.2', 'iif', 'docker0'], 'links'],
    [['ip', '-j', 'route', 'get', 'fd00::1'], 'links'],
    [['ip', '-6', '-j', 'route', 'show', 'table', 'all'], 'links'],
    [['sysctl', '-e', 'net.ipv4.ip_forward', 'net.ipv4.conf.eth0/100.rp_filter', 'net.bridge.bridge-nf-call-iptables'], 'sysctl'],
    [['cat', '/proc/net/netstat', '/proc/net/snmp', '/proc/net/stat/nf_conntrack'], 'counters'],
    ...['ip -j -d addr show', 'ip -j neigh show', 'ss -ltnHp', 'iptables-save -c', 'ip6tables-save -c', 'nft -j list ruleset',
      'cat /proc/net/netstat /proc/net/snmp /proc/net/stat/nf_conntrack', 'sysctl -e net.ipv4.ip_forward net.ipv4.conf.eth0.rp_filter',
      'ip -j route get 172.31.0.10', 'ip -j route get 172.31.0.10 from 172.17.0.2 iif docker0', 'ip -4 -j route show table all',
    ].flatMap((inner): Array<[string[], string]> => [
      [['nsenter', '--net=/proc/4242/ns/net', ...inner.split(' ')], 'containers'],
      [['nsenter', '--net=/run/netns/ft-container', ...inner.split(' ')], 'containers'],
    ]),
  ];
  for (const [argv, id] of accepted) assert.equal(find(argv), id, argv.join(' '));
});

test('anything else is refused before it is sent: other options, a shell in nsenter, tcpdump writing a file, sysctl -p', () => {
  const refused: string[][] = [
    ['tcpdump', '-i', 'any', '-w', '/etc/passwd'],
    ['timeout', '--signal=INT', '--kill-after=5', '330', DEBIAN_PATHS.tcpdump, '-i', 'any', '-w', '/tmp/x', '--', 'port 80'],
    ['timeout', ...captureArgv(DEBIAN_PATHS, 'port 80').slice(1, -2), '-r', 'x', '--', 'port 80'],
    ['timeout', '--signal=INT', '--kill-after=5', '330', '/bin/sh', '-c', 'id', DEBIAN_PATHS.tcpdump, ...captureArgv(DEBIAN_PATHS, 'port 80').slice(5)],
    // The filter is the one word that may hold spaces, and only as the last one.
    ['timeout', ...captureArgv(DEBIAN_PATHS, 'port 80').slice(1, -1), 'port 80', 'extra'],
    ['iptables-save', '-c', '-M', '/tmp/x'],
    ['iptables-save'],
    ['nft', 'flush', 'ruleset'],
    ['nsenter', '--net=/proc/1', '/bin/sh', '-c', 'id', '/ns/net', 'ip', '-j', '-d', 'addr', 'show'],
    ['nsenter', '--net=/proc/1/ns/net', 'sh', '-c', 'id'],
    ['nsenter', '--net=/proc/1/ns/net', '--mount=/proc/1/ns/mnt', 'ip', '-j', 'neigh', 'show'],
    ['nsenter', '--net=/proc/1/ns/net', 'sysctl', '-e', '-p'],
    ['nsenter', '--net=/proc/1/ns/net', 'ip', '-j', '-d', 'addr', 'show', 'extra'],
    ['sysctl', '-w', 'net.ipv4.ip_forward=0'],
    ['sysctl', '-e', 'net.ipv4.ip_forward=0'],
    ['ip', 'link', 'set', 'ens5', 'down'],
    ['ip', '-j', 'route', 'get', '1.2.3.4;id'],
    ['ip', '-j', 'route', 'get', '1.2.3.4', 'iif', 'eth0 x'],
    ['cat', '/etc/shadow'],
    ['docker', 'inspect', '--format', '{{.Id}}|{{.State.Pid}}|{{.Name}}|{{.Config.Image}}', 'web'],
    ['docker', 'exec', 'web', 'sh'],
    ['lsns'],
  ];
  for (const argv of refused) assert.equal(find(argv), null, argv.join(' '));
});

test('the sudoers lines: privileged commands only, valid for visudo, and the very lines docs/agent.md prints', () => {
  const lines = sudoersLines('flowtrace');
  assert.equal(lines.length, list.filter((c) => c.privileged).length);
  assert.equal(lines[0], 'flowtrace ALL=(root) NOPASSWD: /usr/bin/timeout --signal\\=INT --kill-after\\=5 330 /usr/bin/tcpdump -i any -w - -U --immediate-mode -s 1600 -B 32768 -Z root -c 1000000 -- *');
  assert.ok(lines.includes('flowtrace ALL=(root) NOPASSWD: /usr/bin/lsns -t net -J -o NS\\,PID\\,NETNSID\\,NSFS\\,COMMAND'));
  assert.ok(lines.every((l) => !/\b(ip|sysctl|cat) /.test(l.split('NOPASSWD: ')[1]!.split(' ')[0]!)), 'unprivileged commands get no line');
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'fttssh-')), 'flowtrace');
  try {
    fs.writeFileSync(file, lines.join('\n') + '\n', { mode: 0o440 });
    const r = spawnSync('visudo', ['-c', '-f', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
  const doc = fs.readFileSync(new URL('../../docs/agent.md', import.meta.url), 'utf8');
  const block = /```sudoers\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
  assert.deepEqual(block.split('\n').filter((l) => l.startsWith('flowtrace ')), lines, 'docs/agent.md shows exactly the generated lines');
});

test('words for the remote shell: plain words as they are, the rest single-quoted; control characters refused', () => {
  assert.equal(shellWord('/usr/bin/tcpdump'), '/usr/bin/tcpdump');
  assert.equal(shellWord('--signal=INT'), '--signal=INT');
  assert.equal(shellWord('(port 80 or port 8080)'), "'(port 80 or port 8080)'");
  assert.equal(shellWord("it's $(id) `x` ;|&"), "'it'\\''s $(id) `x` ;|&'");
  assert.equal(shellWord(''), "''");
  assert.equal(shellLine(['sudo', '-n', 'x y']), "sudo -n 'x y'");
  assert.throws(() => shellWord('port 80\nid'), /REMOTE_WORD|control/);
  assert.throws(() => shellWord('ü'), /control or non-ASCII/);
  assert.throws(() => shellWord('x'.repeat(5000)), /5000-byte word/);
  // A shell reads the quoted line back as the same words.
  const words = ['a b', "it's", '$HOME', '\\n', '*', '"q"'];
  const r = spawnSync('sh', ['-c', `printf '%s\\n' ${shellLine(words)}`], { encoding: 'utf8' });
  assert.deepEqual(r.stdout.split('\n').slice(0, -1), words);
});

test('the watchdog line: the capture in the background, input read by one byte with a silence bound, then SIGINT to it', async () => {
  const line = watchdogLine("sudo -n /usr/bin/timeout '(port 80)'", '/usr/bin/timeout');
  assert.equal(line, `exec 3<&0; sudo -n /usr/bin/timeout '(port 80)' </dev/null & p=$!; (while [ "$(/usr/bin/timeout ${REMOTE_CAPTURE.silenceSec} head -c 1 <&3 2>/dev/null | wc -c)" -eq 1 ]; do :; done; kill -INT $p) >/dev/null 2>&1 & w=$!; exec 3<&-; wait $p; r=$?; kill $w 2>/dev/null; exit $r`);
  // It runs in sh: a command that waits (and handles SIGINT, as sudo, timeout and tcpdump do) ends when the input ends, with its exit code.
  const waiting = shellLine([process.execPath, '-e', "process.on('SIGINT', () => process.exit(7)); setInterval(() => {}, 1000); console.log('ready ' + process.pid)"]);
  const child = spawn('sh', ['-c', watchdogLine(waiting, 'timeout')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const inner = await new Promise<number>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(Number(/ready (\d+)/.exec(d.toString())?.[1]))));
  try {
    const t0 = performance.now();
    child.stdin.end('..');
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    assert.equal(code, 7);
    assert.ok(performance.now() - t0 < 5000, 'at the end of input, not at the silence bound');
  } finally {
    // Whatever happened, nothing of the test runs on (the command runs in the watchdog's background).
    try { process.kill(inner, 'SIGKILL'); } catch { /* ended, as it should */ }
  }
});

test('the preflight\'s output: user, paths (not found and builtins left out), distribution; the install command per distribution', () => {
  const host = parsePreflight([
    'user ec2-user 1000',
    'path flowtrace ', 'path sudo /usr/bin/sudo', 'path tcpdump /usr/sbin/tcpdump', 'path timeout /usr/bin/timeout', 'path ip /usr/sbin/ip',
    'path cat cat', 'path docker ', 'os ID="amzn"', 'os ID_LIKE="fedora rhel"', '',
  ].join('\n'));
  assert.deepEqual(host, { user: 'ec2-user', uid: 1000, sudo: '/usr/bin/sudo', flowtrace: null, os: ['amzn', 'fedora', 'rhel'],
    paths: { tcpdump: '/usr/sbin/tcpdump', timeout: '/usr/bin/timeout', ip: '/usr/sbin/ip' } });
  assert.equal(installHint(host, 'tcpdump'), 'sudo dnf install tcpdump');
  assert.equal(installHint({ os: ['ubuntu', 'debian'] }, 'ip'), 'sudo apt-get install iproute2');
  assert.equal(installHint({ os: [] }, 'tcpdump'), 'sudo apt-get install tcpdump (Debian, Ubuntu) or sudo dnf install tcpdump (Amazon Linux, RHEL)');
});

/** A connection that records the command lines it is given and answers from a script. */
function scriptedConnection(answer: (line: string) => ExecResult): SshConnection & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines, target: parseSshTarget('ssh://u@h'), label: 'ssh://u@h', masterPid: null,
    sessionArgv: () => ['ssh', 'h', '--'],
    async exec(line) { lines.push(line); return answer(line); },
    spawn() { throw new Error('not here'); },
    async close() {},
  };
}

const HOST: RemoteHost = {
  user: 'flowtrace', uid: 1000, sudo: '/usr/bin/sudo', flowtrace: null, os: ['debian'], captureAllowed: true, agentAllowed: false,
  paths: { ip: '/usr/bin/ip', 'iptables-save': '/usr/sbin/iptables-save', nsenter: '/usr/bin/nsenter', sysctl: '/usr/sbin/sysctl' },
};

test('the runner: the server\'s path, sudo -n only for privileged commands, quoted words; refused, missing and sudo-refused commands said', async () => {
  const conn = scriptedConnection((line) => (line.includes('iptables-save') && !line.includes('nsenter') ? { code: 1, stdout: '', stderr: 'sudo: a password is required\n' } : { code: 0, stdout: 'out', stderr: '' }));
  const runner = remoteRunner(conn, HOST);
  assert.deepEqual(await runner.run(['ip', '-j', 'neigh', 'show']), { code: 0, stdout: 'out', stderr: '', missing: false });
  await runner.run(['nsenter', '--net=/proc/77/ns/net', 'sysctl', '-e', 'net.ipv4.ip_forward']);
  const denied = await runner.run(['iptables-save', '-c']);
  assert.deepEqual([denied.code, denied.stderr], [1, 'sudo: a password is required\n']);
  assert.deepEqual(conn.lines, [
    '/usr/bin/ip -j neigh show',
    '/usr/bin/sudo -n /usr/bin/nsenter --net=/proc/77/ns/net sysctl -e net.ipv4.ip_forward',
    '/usr/bin/sudo -n /usr/sbin/iptables-save -c',
  ]);
  assert.deepEqual(runner.refused().map((c) => c.id), ['iptables']);
  const missing = await runner.run(['nft', '-j', 'list', 'ruleset']);
  assert.deepEqual([missing.missing, missing.code], [true, null]);
  const offList = await runner.run(['ip', 'link', 'set', 'ens5', 'down']);
  assert.equal(offList.code, 126);
  assert.match(offList.stderr, /is not one of the commands the agentless path runs/);
  assert.equal(conn.lines.length, 3, 'nothing more was sent');
  // As root: no sudo.
  const asRoot = scriptedConnection(() => ({ code: 0, stdout: '', stderr: '' }));
  await remoteRunner(asRoot, { ...HOST, uid: 0, sudo: null }).run(['iptables-save', '-c']);
  assert.deepEqual(asRoot.lines, ['/usr/sbin/iptables-save -c']);
});

test('commands asked for together go in one session: a batch run side by side, each bounded, outputs and exit codes back exactly', async () => {
  // A connection whose sessions run the line in a local sh: the batch script itself runs.
  const execs: string[] = [];
  const local: SshConnection = {
    ...scriptedConnection(() => ({ code: 0, stdout: '', stderr: '' })),
    async exec(line, o) {
      execs.push(line);
      const r = spawnSync('sh', ['-c', line], { encoding: 'utf8', timeout: o?.timeoutMs });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    },
  };
  // Programs that say what they were given, fail, print to stderr, or outlast their bound.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fttssh-batch-'));
  try {
    const program = (name: string, body: string): string => { const p = path.join(dir, name); fs.writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 }); return p; };
    const host: RemoteHost = {
      ...HOST, uid: 0, sudo: null,
      paths: {
        ip: program('ip', 'printf "%s|" "$@"; printf "no newline at the end"'),
        sysctl: program('sysctl', 'echo "net.ipv4.ip_forward = 1"; echo "sysctl: unknown key" >&2; exit 3'),
        cat: program('cat', 'sleep 5'),
        'iptables-save': program('iptables-save', `printf '*filter\\n:INPUT ACCEPT [0:0]\\n\\nCOMMIT\\n'`),
        timeout: '/usr/bin/timeout',
      },
    };
    const runner = remoteRunner(local, host);
    const [ip, sysctl, cat, save] = await Promise.all([
      runner.run(['ip', '-j', 'route', 'get', '10.0.0.1', 'from', '10.0.0.2', 'iif', 'eth0']),
      runner.run(['sysctl', '-e', 'net.ipv4.ip_forward']),
      runner.run(['cat', '/proc/net/netstat', '/proc/net/snmp', '/proc/net/stat/nf_conntrack'], { timeoutMs: 1000 }),
      runner.run(['iptables-save', '-c']),
    ]);
    assert.equal(execs.length, 1, 'one session for the four');
    assert.deepEqual(ip, { code: 0, stdout: '-j|route|get|10.0.0.1|from|10.0.0.2|iif|eth0|no newline at the end', stderr: '', missing: false });
    assert.deepEqual(sysctl, { code: 3, stdout: 'net.ipv4.ip_forward = 1\n', stderr: 'sysctl: unknown key\n', missing: false });
    assert.deepEqual([cat.code, cat.stdout], [null, ''], 'a command past its bound: no answer (code null), the others unharmed');
    assert.equal(save.stdout, '*filter\n:INPUT ACCEPT [0:0]\n\nCOMMIT\n', 'empty lines and trailing newlines kept');
    // One at a time: a session each, no batch.
    await runner.run(['ip', '-j', 'neigh', 'show']);
    assert.equal(execs.length, 2);
    assert.equal(execs[1], `${host.paths.ip} -j neigh show`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(parseBatch('garbage', 2, 'FTBATCH-x'), [null, null], 'no markers: no answers (each says so)');
});

test('lsns and docker inspect output: namespaces with their id, path and first process; containers', () => {
  const lsns = JSON.stringify({ namespaces: [
    { ns: 4026531840, pid: 1, netnsid: 'unassigned', nsfs: null, command: '/sbin/init' },
    { ns: 4026533362, pid: 23124, netnsid: '1', nsfs: '/run/netns/ft-container', command: '/usr/bin/node app.js' },
    { ns: 4026533400, pid: 555, netnsid: 3, nsfs: null, command: 'nginx: master process' },
  ] });
  assert.deepEqual(parseLsnsNet(lsns).map(({ inode, nsid, name, path: p, pids }) => ({ inode, nsid, name, p, pids })), [
    { inode: 4026531840, nsid: null, name: null, p: '/proc/1/ns/net', pids: [1] },
    { inode: 4026533362, nsid: 1, name: 'ft-container', p: '/run/netns/ft-container', pids: [23124] },
    { inode: 4026533400, nsid: 3, name: null, p: '/proc/555/ns/net', pids: [555] },
  ]);
  assert.deepEqual(parseLsnsNet('not json'), []);
  // A named namespace no process holds (a stopped container's, `ip netns add`): lsns before
  // util-linux 2.40 leaves it out; `ip -j netns list-id` names it, entered by its path.
  const ids = parseNetnsListId(JSON.stringify([{ nsid: 1, name: 'ft-container' }, { nsid: 4, name: 'ft-container-b' }, { nsid: 5, name: '../etc' }, { nsid: 'x', name: 'y' }]));
  assert.deepEqual([...ids], [[1, 'ft-container'], [4, 'ft-container-b']], 'only well-formed names and ids');
  assert.deepEqual(parseNetnsListId('[]').size, 0);
  assert.deepEqual(parseNetnsListId('not json').size, 0);
  const merged = withNamedNamespaces(parseLsnsNet(lsns), ids);
  assert.equal(merged.length, 4, 'ft-container is listed by lsns already (nsid 1): only ft-container-b is added');
  assert.deepEqual(merged.map(({ inode, nsid, name, path: p, pids }) => ({ inode, nsid, name, p, pids }))[3], { inode: -5, nsid: 4, name: 'ft-container-b', p: '/run/netns/ft-container-b', pids: [] });
  const id = 'f'.repeat(64);
  assert.deepEqual(parseDockerInspect(`${id}|4242|/web|nginx:1.25\nbad line\n`), [{ id, pid: 4242, name: 'web', image: 'nginx:1.25' }]);
});

test('ssh\'s own failures, one line each with what to do', () => {
  const t = parseSshTarget('ssh://ec2-user@10.0.0.5:2222');
  const cases: Array<[string, string, RegExp]> = [
    ['Host key verification failed.\n', 'SSH_HOST_KEY_UNKNOWN', /accept it once by hand: ssh -p 2222 ec2-user@10\.0\.0\.5 true \(answer yes\)/],
    ['@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@@@\nHost key verification failed.\n', 'SSH_HOST_KEY_CHANGED', /ssh-keygen -R 10\.0\.0\.5/],
    ['ec2-user@10.0.0.5: Permission denied (publickey).\n', 'SSH_AUTH', /ssh-add/],
    ['ssh: connect to host 10.0.0.5 port 2222: Connection refused\n', 'SSH_CONNECT', /ProxyJump/],
    ['ssh: Could not resolve hostname nowhere: Name or service not known\n', 'SSH_CONNECT', /host name/],
    ['something else\n', 'SSH_FAILED', /ssh -v -p 2222 ec2-user@10\.0\.0\.5 true/],
  ];
  for (const [log, code, hint] of cases) {
    const e = classifySshFailure(log, t, { configFile: null });
    assert.equal(e.code, code, log);
    assert.match(e.hint, hint);
    assert.equal(e.exitCode, 9);
    assert.ok(!e.message.includes('\n'));
  }
  assert.deepEqual(parseSshTarget('ssh://web-1'), { user: null, host: 'web-1', port: null }, 'an alias of ~/.ssh/config');
  assert.throws(() => parseSshTarget('ssh://-oProxyCommand=x@h'), /bad ssh user/);
  assert.throws(() => parseSshTarget('ssh://u@-oProxyCommand=x'), /bad ssh/);
});

test('the CLI: --server for capture takes ssh:// only, --server-mode goes with --server and names a mode, a server capture lasts at most 300 s', async () => {
  const { main } = await import('../../src/cli/main.js');
  const { memoryIO } = await import('../../src/cli/io.js');
  const cases: Array<[string[], RegExp]> = [
    [['capture', '--server', 'netns:ec2'], /^error\[USAGE\]: --server takes an ssh:\/\/ target, not 'netns:ec2'\nhint: .*--netns NAME/],
    [['capture', '--server', 'ssh://u@h', '--netns', 'x'], /^error\[USAGE\]: --server and --netns together/],
    [['capture', '--server-mode', 'agent'], /^error\[USAGE\]: --server-mode goes with --server ssh:\/\/…/],
    [['capture', '--server', 'ssh://u@h', '--server-mode', 'both'], /^error\[USAGE\]: unknown --server-mode 'both'\nhint: modes: auto, agent, agentless/],
    [['capture', '--server', 'ssh://u@h', '--for', '10m'], /^error\[USAGE\]: --for 10m is longer than a capture on a server may run \(300 s\)/],
    [['capture', '--server', 'ssh://-oProxyCommand=x@h'], /^error\[USAGE\]: bad ssh user/],
    [['follow', 'http://x/', '--server-mode', 'agentless'], /^error\[USAGE\]: --server-mode goes with --server/],
    [['follow', 'http://x/', '--server', 'netns:ec2', '--server-mode', 'agentless'], /^error\[USAGE\]: --server-mode agentless needs an ssh:\/\/ target, not 'netns:ec2'/],
  ];
  for (const [args, want] of cases) {
    const io = memoryIO();
    assert.equal(await main(args, io), 2, args.join(' '));
    assert.match(io.err.join(''), want, args.join(' '));
  }
});
