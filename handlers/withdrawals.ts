import { withdraw } from '../lib/domain/movements';
import { movementHandler } from '../lib/middleware/movement-handler';
import { serviceDeps } from '../lib/service';

export const handler = movementHandler('WITHDRAWAL', withdraw, serviceDeps);
