import type { EventStore, FeedRange, StoredEvent } from '../../lib/domain/event-ports';

/** The EventStore port in memory: what the DynamoDB adapter promises, for unit tests. */
export interface MemoryEventStore extends EventStore {
  all(): StoredEvent[];
  /**
   * Makes the next write of each of these event ids fail once (a throttled table): a
   * `putEvents` holding one of them writes none, as the adapter's transaction does.
   */
  failPuts(ids: string[]): void;
}

export function memoryEventStore(): MemoryEventStore {
  const events = new Map<string, StoredEvent>();
  const failing = new Set<string>();
  const inRange = (range: FeedRange) => (event: StoredEvent) =>
    (range.after === undefined || event.position > range.after) && event.position <= range.until;
  const page = (list: StoredEvent[], range: FeedRange) =>
    list
      .filter(inRange(range))
      .sort((a, b) => (a.position < b.position ? -1 : 1))
      .slice(0, range.limit);
  return {
    async putEvent(event) {
      const [outcome] = await this.putEvents([event]);
      return outcome ?? 'created';
    },
    async putEvents(list) {
      const failed = list.filter((event) => failing.delete(event.id));
      if (failed.length > 0) throw new Error('throttled');
      return list.map((event) => {
        if (events.has(event.id)) return 'exists';
        events.set(event.id, structuredClone(event));
        return 'created';
      });
    },
    async getEvent(id) {
      const event = events.get(id);
      return event === undefined ? undefined : structuredClone(event);
    },
    async listAccountEvents(accountId, range) {
      return page(
        [...events.values()].filter((event) => event.accountId === accountId),
        range,
      );
    },
    async listAllEvents(range) {
      return page([...events.values()], range);
    },
    all: () => page([...events.values()], { until: '~', limit: Number.MAX_SAFE_INTEGER }),
    failPuts(ids) {
      for (const id of ids) failing.add(id);
    },
  };
}
