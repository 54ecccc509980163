/** Why `dir`'s node_modules differs from its package-lock.json, or undefined when it does not. */
export function staleReason(dir: string): string | undefined;
