// The SSRF guard's address classifier: every special-purpose range refused, tricky spellings included.
import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../../../functions/adapters/url-fetcher/address-class.ts';

describe('classifyAddress', () => {
  it.each([
    // IPv4 loopback in the spellings inet_aton and URL parsers accept
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['2130706433', 'loopback'],
    ['017700000001', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    // cloud metadata and the rest of link-local
    ['169.254.169.254', 'link-local'],
    ['0xa9.0xfe.0xa9.0xfe', 'link-local'],
    ['169.254.0.1', 'link-local'],
    // private, shared and "this network"
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['0.0.0.0', 'this-network'],
    ['0.1.2.3', 'this-network'],
    ['0', 'this-network'],
    ['0x', 'this-network'],
    // multicast, broadcast, reserved, documentation, benchmarking
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    // IPv6
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['::', 'unspecified'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:10.1.2.3', 'private'],
    ['::127.0.0.1', 'reserved'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::a9fe:a9fe', 'link-local'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:c0a8:101::1', 'private'],
    ['fd00::1', 'unique-local'],
    ['fc00::1', 'unique-local'],
    ['[fd12:3456:789a::1]', 'unique-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001::1', 'reserved'],
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'],
  ])('refuses %s (%s)', (address, range) => {
    expect(classifyAddress(address)).toMatchObject({ range, allowed: false });
  });

  it.each([
    ['8.8.8.8', 4],
    ['93.184.216.34', 4],
    ['172.32.0.1', 4],
    ['100.128.0.1', 4],
    ['169.255.0.1', 4],
    ['192.169.0.1', 4],
    ['2606:4700:4700::1111', 6],
    ['[2a00:1450:4001:80b::200e]', 6],
    ['::ffff:8.8.8.8', 6],
    ['2002:808:808::1', 6],
  ])('allows the public address %s', (address, family) => {
    expect(classifyAddress(address)).toEqual({ family, range: 'public', allowed: true });
  });

  it.each([
    'example.com',
    'localhost',
    '1.2.3.256',
    '1.2.3.4.5',
    '1..2',
    '09.1.1.1',
    '1::2::3',
    '12345::',
    'fe80:::1',
    '::ffff:127.0.0.1.1',
    '1.2.3.4::',
    '',
  ])('does not take %j for an IP address', (text) => {
    expect(classifyAddress(text)).toBeUndefined();
  });
});
