// Classifies an IP address as public or as one of the special-purpose ranges a fetch must never reach.
import { parseIPv4, parseIPv6 } from './ip-address.ts';

export type AddressRange =
  | 'public'
  | 'unspecified'
  | 'this-network'
  | 'loopback'
  | 'link-local'
  | 'private'
  | 'cgnat'
  | 'unique-local'
  | 'site-local'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved';

export interface AddressClass {
  family: 4 | 6;
  range: AddressRange;
  /** Only `public` addresses may be connected to (outside the local-mode allowance). */
  allowed: boolean;
}

type Block = [prefix: number[], bits: number, range: AddressRange];

/** IANA IPv4 special-purpose registry, most specific first where blocks nest. */
const IPV4_BLOCKS: Block[] = [
  [[0], 8, 'this-network'],
  [[10], 8, 'private'],
  [[100, 64], 10, 'cgnat'],
  [[127], 8, 'loopback'],
  [[169, 254], 16, 'link-local'],
  [[172, 16], 12, 'private'],
  [[192, 0, 0], 24, 'reserved'],
  [[192, 0, 2], 24, 'documentation'],
  [[192, 88, 99], 24, 'reserved'],
  [[192, 168], 16, 'private'],
  [[198, 18], 15, 'benchmarking'],
  [[198, 51, 100], 24, 'documentation'],
  [[203, 0, 113], 24, 'documentation'],
  [[224], 4, 'multicast'],
  [[255, 255, 255, 255], 32, 'broadcast'],
  [[240], 4, 'reserved'],
];

/** IPv6 blocks that are never public; those that embed an IPv4 address are handled before these. */
const IPV6_BLOCKS: Block[] = [
  [[0x00, 0x64, 0xff, 0x9b, 0x00, 0x01], 48, 'reserved'],
  [[0x01, 0x00], 64, 'reserved'],
  [[0x20, 0x01, 0x0d, 0xb8], 32, 'documentation'],
  [[0x20, 0x01], 23, 'reserved'],
  [[0x3f, 0xff], 20, 'documentation'],
  [[0xfc], 7, 'unique-local'],
  [[0xfe, 0x80], 10, 'link-local'],
  [[0xfe, 0xc0], 10, 'site-local'],
  [[0xff], 8, 'multicast'],
];

function inBlock(bytes: Uint8Array, prefix: number[], bits: number): boolean {
  for (let bit = 0; bit < bits; bit += 8) {
    const i = bit / 8;
    const mask = bits - bit >= 8 ? 0xff : (0xff << (8 - (bits - bit))) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((prefix[i] ?? 0) & mask)) return false;
  }
  return true;
}

const zeros = (bytes: Uint8Array, from: number, to: number) => bytes.subarray(from, to).every((b) => b === 0);

function classifyV4(bytes: Uint8Array): AddressRange {
  return IPV4_BLOCKS.find(([prefix, bits]) => inBlock(bytes, prefix, bits))?.[2] ?? 'public';
}

function classifyV6(bytes: Uint8Array): AddressRange {
  if (zeros(bytes, 0, 16)) return 'unspecified';
  if (zeros(bytes, 0, 15) && bytes[15] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) reaches the IPv4 address itself: judge that address.
  if (zeros(bytes, 0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return classifyV4(bytes.subarray(12));
  // IPv4-compatible (::a.b.c.d), deprecated: nothing legitimate uses it.
  if (zeros(bytes, 0, 12)) return 'reserved';
  // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) translate to an embedded IPv4 address: judge that one.
  if (inBlock(bytes, [0x00, 0x64, 0xff, 0x9b], 32) && zeros(bytes, 4, 12))
    return classifyV4(bytes.subarray(12));
  if (inBlock(bytes, [0x20, 0x02], 16)) return classifyV4(bytes.subarray(2, 6));
  const special = IPV6_BLOCKS.find(([prefix, bits]) => inBlock(bytes, prefix, bits))?.[2];
  if (special) return special;
  // Only 2000::/3 is allocated as global unicast; everything else is reserved by IANA.
  return inBlock(bytes, [0x20], 3) ? 'public' : 'reserved';
}

/**
 * Classifies an address given as text (any IPv4 form inet_aton reads, or IPv6 with or without brackets).
 * Undefined when the text is not an IP address at all (a hostname).
 * @example classifyAddress('[::ffff:127.0.0.1]') // { family: 6, range: 'loopback', allowed: false }
 */
export function classifyAddress(text: string): AddressClass | undefined {
  const v6 = parseIPv6(text);
  if (v6) {
    const range = classifyV6(v6);
    return { family: 6, range, allowed: range === 'public' };
  }
  const v4 = parseIPv4(text);
  if (v4) {
    const range = classifyV4(v4);
    return { family: 4, range, allowed: range === 'public' };
  }
  return undefined;
}
