import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger per container. Never give it tokens or whole request bodies. */
export const logger = new Logger({ serviceName: 'money-movement' });
