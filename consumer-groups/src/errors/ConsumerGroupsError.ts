/** The base of every error this package throws, so callers can catch them as one family. */
export class ConsumerGroupsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConsumerGroupsError';
  }
}
