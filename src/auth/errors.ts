import { HealthmeshError } from '../errors.js';

/** A refused write call: no, a malformed or an unknown token (UNAUTHENTICATED), or a token not allowed to do it (PERMISSION_DENIED). */
export class AuthError extends HealthmeshError {
  constructor(code: 'UNAUTHENTICATED' | 'PERMISSION_DENIED', message: string) {
    super(code, message);
  }
}
