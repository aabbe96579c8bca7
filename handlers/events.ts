import { listEvents } from '../lib/domain/event-feed';
import { eventQueryOf, eventView } from '../lib/http-schemas';
import { httpHandler, json } from '../lib/middleware/http';
import { eventFeedDeps } from '../lib/event-service';
import type { EventPage } from '../lib/wire/types';

/** GET /events: the event feed, from a cursor on (docs/events.md). */
export const handler = httpHandler({ operation: 'list events' }, async ({ caller, query }) => {
  const page = await listEvents(eventFeedDeps(), caller, eventQueryOf(query));
  return json(200, {
    events: page.events.map(eventView),
    nextCursor: page.nextCursor,
  } satisfies EventPage);
});
