/**
 * Redis Cluster's key slots: CRC16 (XMODEM: polynomial 0x1021, initial value 0, no final XOR) of
 * the key's hash tag, or of the whole key when it has none, modulo 16384. The same function as
 * Redis' `CLUSTER KEYSLOT`; written here because the partition tags are searched for (see
 * `partitionTag`) and the search resumes the checksum after a fixed prefix, which a library's
 * whole-key function cannot do.
 */

/** Slots of a Redis Cluster. */
export const SLOT_COUNT = 16384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

/**
 * CRC16-XMODEM of some bytes, continuing from `crc` (the checksum of the bytes before them).
 *
 * @example
 * crc16(Buffer.from('123456789')); // 0x31c3
 */
export function crc16(bytes: Uint8Array, crc = 0): number {
  let value = crc;
  for (let i = 0; i < bytes.length; i++) value = crc16Byte(value, bytes[i]!);
  return value;
}

/** One byte more of a CRC16-XMODEM checksum. */
export function crc16Byte(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!;
}

/**
 * The cluster slot of a key, as `CLUSTER KEYSLOT` computes it: only the part between the first
 * `{` and the next `}` counts, when it is not empty.
 *
 * @example
 * keySlot('{lb:7.3}:in') === keySlot('{lb:7.3}:ckpt'); // true: one tag, one slot
 */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return crc16(Buffer.from(key.slice(open + 1, close), 'utf8')) % SLOT_COUNT;
  }
  return crc16(Buffer.from(key, 'utf8')) % SLOT_COUNT;
}
