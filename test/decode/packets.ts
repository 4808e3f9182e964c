/**
 * Real packets from test/data/decode/lab-eth.pcap and lab-any.pcap (made by make-captures.sh),
 * each kept as the `tcpdump -XX -nn -t` text it came from (gopacket style): `fromTcpdumpXX`
 * turns the hex columns back into bytes, so the comment and the data cannot drift apart.
 * (In the ASCII column, ` $ and \\ are shown as '.' to keep the template literals plain.)
 */
export function fromTcpdumpXX(text: string): Uint8Array {
  const bytes: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*0x[0-9a-f]+:\s+((?:[0-9a-f]{2,4} ?)+)/.exec(line);
    if (!m) continue;
    for (const word of m[1].trim().split(/\s+/)) for (let i = 0; i < word.length; i += 2) bytes.push(parseInt(word.slice(i, i + 2), 16));
  }
  return Uint8Array.from(bytes);
}

export const ETH_IPV4_TCP_SYN = fromTcpdumpXX(`
  IP 10.99.0.1.50420 > 10.99.0.2.8080: Flags [S], seq 2742266970, win 64240, options [mss 1460,sackOK,TS val 113647640 ecr 0,nop,wscale 10], length 0
      0x0000:  2a0a 3038 bff4 4e32 722a a631 0800 4500  *.08..N2r*.1..E.
      0x0010:  003c 2071 4000 4006 0583 0a63 0001 0a63  .<.q@.@....c...c
      0x0020:  0002 c4f4 1f90 a373 ac5a 0000 0000 a002  .......s.Z......
      0x0030:  faf0 14f7 0000 0204 05b4 0402 080a 06c6  ................
      0x0040:  2018 0000 0000 0103 030a                 ..........
`);

export const ETH_IPV4_HTTP_GET = fromTcpdumpXX(`
  IP 10.99.0.1.50420 > 10.99.0.2.8080: Flags [P.], seq 1:79, ack 1, win 63, options [nop,nop,TS val 113647648 ecr 2278043696], length 78: HTTP: GET / HTTP/1.1
      0x0000:  2a0a 3038 bff4 4e32 722a a631 0800 4500  *.08..N2r*.1..E.
      0x0010:  0082 2073 4000 4006 053b 0a63 0001 0a63  ...s@.@..;.c...c
      0x0020:  0002 c4f4 1f90 a373 ac5b 659a 7fe5 8018  .......s.[e.....
      0x0030:  003f 153d 0000 0101 080a 06c6 2020 87c8  .?.=............
      0x0040:  3030 4745 5420 2f20 4854 5450 2f31 2e31  00GET./.HTTP/1.1
      0x0050:  0d0a 486f 7374 3a20 3130 2e39 392e 302e  ..Host:.10.99.0.
      0x0060:  323a 3830 3830 0d0a 5573 6572 2d41 6765  2:8080..User-Age
      0x0070:  6e74 3a20 6375 726c 2f37 2e38 382e 310d  nt:.curl/7.88.1.
      0x0080:  0a41 6363 6570 743a 202a 2f2a 0d0a 0d0a  .Accept:.*/*....
`);

export const ETH_IPV4_DNS_RESPONSE = fromTcpdumpXX(`
  IP 10.99.0.2.53 > 10.99.0.1.37930: 4660* 1/0/0 A 10.99.0.80 (50)
      0x0000:  4e32 722a a631 2a0a 3038 bff4 0800 4500  N2r*.1*.08....E.
      0x0010:  004e 31c0 4000 4011 f416 0a63 0002 0a63  .N1.@.@....c...c
      0x0020:  0001 0035 942a 003a 1514 1234 8580 0001  ...5.*.:...4....
      0x0030:  0001 0000 0000 0377 7777 0573 6571 6173  .......www.seqas
      0x0040:  066f 6e6c 696e 6500 0001 0001 c00c 0001  .online.........
      0x0050:  0001 0000 0000 0004 0a63 0050            .........c.P
`);

export const ETH_IPV4_ICMP_PORT_UNREACHABLE = fromTcpdumpXX(`
  IP 10.99.0.2 > 10.99.0.1: ICMP 10.99.0.2 udp port 33434 unreachable, length 68
      0x0000:  4e32 722a a631 2a0a 3038 bff4 0800 45c0  N2r*.1*.08....E.
      0x0010:  0058 02af 0000 4001 626e 0a63 0002 0a63  .X....@.bn.c...c
      0x0020:  0001 0303 ef38 0000 0000 4500 003c ae90  .....8....E..<..
      0x0030:  0000 0111 f658 0a63 0001 0a63 0002 80fa  .....X.c...c....
      0x0040:  829a 0028 1502 4041 4243 4445 4647 4849  ...(..@ABCDEFGHI
      0x0050:  4a4b 4c4d 4e4f 5051 5253 5455 5657 5859  JKLMNOPQRSTUVWXY
      0x0060:  5a5b 5c5d 5e5f                           Z[.]^_
`);

export const ETH_IPV6_TCP_SYN = fromTcpdumpXX(`
  IP6 fd00:99::1.58050 > fd00:99::2.8080: Flags [S], seq 2947760323, win 64800, options [mss 1440,sackOK,TS val 436387274 ecr 0,nop,wscale 10], length 0
      0x0000:  2a0a 3038 bff4 4e32 722a a631 86dd 6006  *.08..N2r*.1....
      0x0010:  c77b 0028 0640 fd00 0099 0000 0000 0000  .{.(.@..........
      0x0020:  0000 0000 0001 fd00 0099 0000 0000 0000  ................
      0x0030:  0000 0000 0002 e2c2 1f90 afb3 40c3 0000  ............@...
      0x0040:  0000 a002 fd20 fb64 0000 0204 05a0 0402  .......d........
      0x0050:  080a 1a02 bdca 0000 0000 0103 030a       ..............
`);

export const SLL2_IPV4_TCP_SYNACK = fromTcpdumpXX(`
  ifb0  In  IP 10.99.0.2.8080 > 10.99.0.1.50420: Flags [S.], seq 1704624100, ack 2742266971, win 65160, options [mss 1460,sackOK,TS val 2278043696 ecr 113647640,nop,wscale 10], length 0
      0x0000:  0800 0000 0000 0002 0001 0006 2a0a 3038  ............*.08
      0x0010:  bff4 0000 4500 003c 0000 4000 4006 25f4  ....E..<..@.@.%.
      0x0020:  0a63 0002 0a63 0001 1f90 c4f4 659a 7fe4  .c...c......e...
      0x0030:  a373 ac5b a012 fe88 14f7 0000 0204 05b4  .s.[............
      0x0040:  0402 080a 87c8 3030 06c6 2018 0103 030a  ......00........
`);
