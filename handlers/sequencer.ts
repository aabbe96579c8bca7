import { sequencerHandler } from '../lib/sequencer-stream';
import { serviceDeps } from '../lib/service';

export const handler = sequencerHandler(() => serviceDeps().store);
