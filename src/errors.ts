/** Typed errors with stable codes. Adapters map them to gRPC / HTTP status codes. */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_UNREADABLE'
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'UNAVAILABLE'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL';

export class HealthmeshError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }

  /**
   * What a remote caller may read (gRPC status details, admin HTTP error bodies). The default is the
   * message; errors whose message names server-side things (file paths) override it, and the full
   * message goes to the server's log only.
   */
  get publicMessage(): string {
    return this.message;
  }
}

export interface ConfigIssue {
  /** Dotted field path, e.g. `clusters[0].endpoints[1].port`. */
  path: string;
  message: string;
  /** The offending value, when there is one. */
  value?: unknown;
}

export class ConfigError extends HealthmeshError {
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super('CONFIG_INVALID', formatIssues(file, issues), { file, issues });
  }

  /** The issues without the file name (a caller has no business knowing where the config lives). */
  override get publicMessage(): string {
    return `invalid configuration: ${this.issues.map((i) => `${i.path || '<root>'}: ${i.message}`).join('; ')}`;
  }
}

export class InvalidArgumentError extends HealthmeshError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('INVALID_ARGUMENT', `${field}: ${message}`, { field });
  }
}

/** A configured cap is reached (`limits.*`); gRPC RESOURCE_EXHAUSTED, HTTP 429. */
export class ResourceExhaustedError extends HealthmeshError {
  constructor(
    readonly limit: string,
    message: string,
  ) {
    super('RESOURCE_EXHAUSTED', message, { limit });
  }
}

export class NotFoundError extends HealthmeshError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`);
  }
}

/** A component could not start (healthmesh stopped what had started); `component` names it, `cause` is the original error. */
export class StartError extends HealthmeshError {
  constructor(
    readonly component: string,
    cause: unknown,
  ) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(cause instanceof HealthmeshError ? cause.code : 'UNAVAILABLE', `${component}: ${message}`, { component });
    this.cause = cause;
  }
}

function formatIssues(file: string, issues: ConfigIssue[]): string {
  const lines = issues.map((i) => {
    // Messages that already say what they got (`..., got "x"`) are not given the value twice.
    const value = i.value === undefined || /\bgot\b/.test(i.message) ? '' : ` (got ${JSON.stringify(i.value)})`;
    return `  ${file}: ${i.path || '<root>'}: ${i.message}${value}`;
  });
  return `invalid configuration in ${file}:\n${lines.join('\n')}`;
}
