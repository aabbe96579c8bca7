import { withdraw } from '../lib/domain/movements';
import { movementHandler } from '../lib/middleware/movement-handler';

export const handler = movementHandler('withdrawal', withdraw);
