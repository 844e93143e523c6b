/** Mapping of typed errors (ours and fastify's) to HTTP statuses and the JSON error body. */
import { HealthmeshError, type ErrorCode } from '../errors.js';

export type AdminErrorCode = ErrorCode | 'PERMISSION_DENIED' | 'METHOD_NOT_ALLOWED' | 'PAYLOAD_TOO_LARGE' | 'URI_TOO_LONG' | 'UNSUPPORTED_MEDIA_TYPE';

export interface ErrorBody {
  error: { code: AdminErrorCode; message: string; field?: string };
}

/** An error that is already an HTTP answer (auth, method, ...). */
export class AdminHttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: AdminErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'AdminHttpError';
  }
}

export interface ErrorReply {
  statusCode: number;
  body: ErrorBody;
  headers: Record<string, string>;
  /** A server-side failure: logged with its stack, answered without detail. */
  internal: boolean;
  /** The full message when the body carries less (e.g. a store path): log it, never send it. */
  logDetail?: string;
}

const CODE_STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  RESOURCE_EXHAUSTED: 429,
  UNAVAILABLE: 503,
};

const STATUS_CODE: Record<number, AdminErrorCode> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

const INTERNAL: ErrorReply = { statusCode: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } }, headers: {}, internal: true };

export function toErrorReply(err: unknown, bodyLimit: number): ErrorReply {
  if (err instanceof AdminHttpError) {
    return { statusCode: err.statusCode, body: { error: { code: err.code, message: err.message } }, headers: err.headers, internal: false };
  }
  if (err instanceof HealthmeshError) {
    const statusCode = CODE_STATUS[err.code];
    if (statusCode === undefined) return INTERNAL;
    const field = typeof err.details.field === 'string' ? err.details.field : undefined;
    const message = err.publicMessage;
    return {
      statusCode,
      body: { error: { code: err.code, message, ...(field ? { field } : {}) } },
      headers: {},
      internal: false,
      ...(message === err.message ? {} : { logDetail: err.message }),
    };
  }
  // fastify's own errors (FST_ERR_*) carry a 4xx statusCode and a message fit for the client.
  const fst = err as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof fst.statusCode === 'number' && fst.statusCode >= 400 && fst.statusCode < 500 && typeof fst.code === 'string' && fst.code.startsWith('FST_')) {
    const code = STATUS_CODE[fst.statusCode] ?? 'INVALID_ARGUMENT';
    const message =
      fst.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body exceeds ${bodyLimit} bytes` : typeof fst.message === 'string' ? fst.message : 'bad request';
    return { statusCode: fst.statusCode, body: { error: { code, message } }, headers: {}, internal: false };
  }
  return INTERNAL;
}
