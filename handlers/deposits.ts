import { deposit } from '../lib/domain/movements';
import { movementHandler } from '../lib/middleware/movement-handler';
import { serviceDeps } from '../lib/service';

export const handler = movementHandler('DEPOSIT', deposit, serviceDeps);
