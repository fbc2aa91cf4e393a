import { KassaError } from '@kassa/core';

/** The simulator could not set up or drive its run (a server that would not start, a database it could not create). */
export class SimSetupError extends KassaError {
  readonly code = 'sim_setup';

  constructor(
    message: string,
    /** What the failing part printed, when it printed anything. */
    readonly output = '',
  ) {
    super(message);
  }
}
