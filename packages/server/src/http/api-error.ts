import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** The JSON body of every error answer (DESIGN §7). */
export const ErrorBodySchema = z
  .object({
    error: z.string().describe('stable machine-readable code, e.g. `invalid_input`'),
    message: z.string().describe('for people'),
    details: z.unknown().optional(),
  })
  .meta({ id: 'Error' });

/** An error answer's body. */
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * The one error a route throws to answer with a 4xx. Routes and domain code throw; only
 * {@link errorMapper} turns errors into responses.
 *
 * @example
 * ```ts
 * throw new ApiError(410, 'resync_required', 'the cursor is older than the change log');
 * ```
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Code for a status when nothing more specific is known. */
const CODE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  410: 'gone',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  431: 'headers_too_large',
};

/** Fastify's own error codes that deserve a clearer name. */
const CODE_BY_FASTIFY_CODE: Readonly<Record<string, string>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
};

interface Mapped {
  readonly status: number;
  readonly body: ErrorBody;
}

/** Turns any thrown value into a status and an {@link ErrorBody}. Pure: the table in one place. */
export function mapError(err: unknown): Mapped {
  if (err instanceof ApiError) {
    return { status: err.statusCode, body: { error: err.code, message: err.message, ...(err.details === undefined ? {} : { details: err.details }) } };
  }
  if (hasZodFastifySchemaValidationErrors(err)) {
    return {
      status: 400,
      body: {
        error: 'invalid_input',
        message: `the request ${err.validationContext ?? 'input'} does not match the schema`,
        details: { issues: err.validation.map((v) => ({ path: v.instancePath, code: v.keyword, message: v.message ?? v.keyword })) },
      },
    };
  }
  if (isResponseSerializationError(err)) {
    return { status: 500, body: { error: 'internal_error', message: 'the server built a response that does not match its schema' } };
  }
  const fe = err as Partial<FastifyError> & { message?: unknown };
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    // JSON.parse's SyntaxError arrives with statusCode 400 and no code.
    const code =
      (fe.code !== undefined ? CODE_BY_FASTIFY_CODE[fe.code] : undefined) ??
      (err instanceof SyntaxError ? 'invalid_json' : undefined) ??
      CODE_BY_STATUS[status] ??
      'bad_request';
    return { status, body: { error: code, message: typeof fe.message === 'string' ? fe.message : 'bad request' } };
  }
  return { status: 500, body: { error: 'internal_error', message: 'an unexpected error occurred; it has been logged' } };
}

/**
 * Installs the single error mapper and the JSON 404 on `app`. A 5xx is logged as an error (it is a
 * bug); a 4xx is logged at info level without the body.
 */
export function installErrorMapper(app: FastifyInstance): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = mapError(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ status, error: body.error }, 'request rejected');
    return reply.status(status).type('application/json; charset=utf-8').send(body);
  });
  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const body: ErrorBody = { error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}` };
    return reply.status(404).send(body);
  });
}
