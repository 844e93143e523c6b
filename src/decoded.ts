/**
 * A request as a service handler receives it: decoded, or why its bytes could not be decoded. The
 * handler answers INVALID_ARGUMENT with the reason (grpc-js would otherwise fail the call itself with
 * an opaque INTERNAL). Shared by the ADS, LRS, agent and status services.
 */
export interface Malformed {
  malformed: string;
}

export type Decoded<T> = T | Malformed;

export function isMalformed(x: unknown): x is Malformed {
  return typeof x === 'object' && x !== null && 'malformed' in x;
}

/** `decode`, returning `{ malformed }` with the error's message instead of throwing. */
export function orMalformed<In, T>(decode: (bytes: In) => T): (bytes: In) => Decoded<T> {
  return (bytes) => {
    try {
      return decode(bytes);
    } catch (err) {
      return { malformed: (err as Error).message };
    }
  };
}
