/** A value handed to the relational store is out of its range; nothing was written. */
export class StoreInputError extends Error {
  /** The offending field, e.g. `userId` or `entries[3].score`. */
  readonly field: string;

  constructor(field: string, expected: string, got: unknown) {
    super(`${field} must be ${expected}, got ${describe(got)}`);
    this.name = 'StoreInputError';
    this.field = field;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint' || value === undefined) return String(value);
  try {
    const json = JSON.stringify(value);
    return json.length > 80 ? json.slice(0, 77) + '...' : json;
  } catch {
    return typeof value;
  }
}
