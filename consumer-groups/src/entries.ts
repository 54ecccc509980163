/** Stream entries as this package hands them out, and the decoding of Redis' raw replies. */

export interface StreamEntry {
  id: string;
  fields: Record<string, string>;
  /** How many times the group delivered this entry, this delivery included. */
  deliveries: number;
}

/** A raw entry as ioredis returns it: `[id, [field, value, field, value, ...]]`. */
export type RawEntry = [id: string, fields: string[]];

export function decodeEntry(raw: RawEntry, deliveries = 1): StreamEntry {
  const [id, flat] = raw;
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
  return { id, fields, deliveries };
}

/** Compares two stream ids (`ms-seq`) numerically; negative when `a` is older. */
export function compareIds(a: string, b: string): number {
  const [aMs, aSeq] = splitId(a);
  const [bMs, bSeq] = splitId(b);
  return aMs === bMs ? Math.sign(aSeq - bSeq) : Math.sign(aMs - bMs);
}

function splitId(id: string): [number, number] {
  const dash = id.indexOf('-');
  return dash < 0 ? [Number(id), 0] : [Number(id.slice(0, dash)), Number(id.slice(dash + 1))];
}

/** The id just before the first entry of millisecond `ms`, for "everything from this time on". */
export function idBefore(ms: number): string {
  return ms <= 0 ? '0-0' : `${ms - 1}-18446744073709551615`;
}
