import { readFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type AttributeValue as SdkAttributeValue,
  type GetShardIteratorCommandInput,
  type _Record as SdkRecord,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  AttributeValue,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
} from 'aws-lambda';
import { z } from 'zod';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb-local';

/**
 * Feeds a Lambda DynamoDB-stream handler from DynamoDB Local's stream, the way Lambda's event
 * source mapping does: shards polled in parallel, each shard in order, a parent shard finished
 * before its children, a failed batch retried (never skipped), ReportBatchItemFailures honoured,
 * and a checkpoint per shard moved only after the handler succeeded.
 */

export interface StreamPollerOptions {
  endpoint: string;
  tableName: string;
  handler: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;
  /**
   * JSON file keeping the last processed SequenceNumber per shard; a restarted poller resumes
   * after it. Unset: checkpoints are kept in memory only.
   */
  checkpointFile?: string;
  /** Records not matching are checkpointed and skipped (emulates Lambda filterPatterns). */
  filter?: (record: DynamoDBRecord) => boolean;
  /** Wait after an empty GetRecords. Default 100. */
  pollIntervalMs?: number;
  /** GetRecords Limit, i.e. the most records per handler call. Default 100. */
  batchSize?: number;
  /** How often DescribeStream looks for new shards. Default 1000. */
  discoveryIntervalMs?: number;
  /** Called for every handler failure and every AWS error the poller recovers from. */
  onError?: (err: unknown) => void;
}

export interface StreamPoller {
  /** Stops polling; waits for an in-flight handler call (and its checkpoint) to finish. */
  stop(): Promise<void>;
  /**
   * Resolves once every record that was in the stream when drain was called has been processed
   * (handled, or skipped by the filter) and checkpointed. Rejects after `timeoutMs` (default 10 s).
   */
  drain(timeoutMs?: number): Promise<void>;
}

const checkpointSchema = z.object({
  version: z.literal(1),
  streamArn: z.string(),
  shards: z.record(
    z.string(),
    z.object({ sequenceNumber: z.string().optional(), finished: z.boolean().optional() }),
  ),
});
type ShardCheckpoint = z.infer<typeof checkpointSchema>['shards'][string];

const errorName = (err: unknown): string | undefined =>
  err instanceof Error ? err.name : undefined;

/** Sequence numbers are decimal strings (DynamoDB Local pads them to 21 digits). */
export function compareSequenceNumbers(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function toLambdaValue(value: SdkAttributeValue): AttributeValue {
  const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64');
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: base64(value.B) };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  if (value.BS !== undefined) return { BS: value.BS.map(base64) };
  if (value.M !== undefined) return { M: toLambdaMap(value.M) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaValue) };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  throw new Error(`Unsupported attribute value ${JSON.stringify(value)}`);
}

function toLambdaMap(image: Record<string, SdkAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, toLambdaValue(v)]));
}

function toLambdaImage(
  image: Record<string, SdkAttributeValue> | undefined,
): Record<string, AttributeValue> | undefined {
  return image === undefined ? undefined : toLambdaMap(image);
}

/** The record as Lambda delivers it: raw AttributeValue images, binary as base64, epoch seconds. */
export function toLambdaRecord(record: SdkRecord, streamArn: string): DynamoDBRecord {
  const d = record.dynamodb;
  const created = d?.ApproximateCreationDateTime;
  const out: DynamoDBRecord = {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ApproximateCreationDateTime:
        created === undefined ? undefined : Math.floor(created.getTime() / 1000),
      Keys: toLambdaImage(d?.Keys),
      NewImage: toLambdaImage(d?.NewImage),
      OldImage: toLambdaImage(d?.OldImage),
      SequenceNumber: d?.SequenceNumber,
      SizeBytes: d?.SizeBytes,
      StreamViewType: d?.StreamViewType,
    },
  };
  if (record.userIdentity !== undefined) {
    out.userIdentity = {
      type: record.userIdentity.Type,
      principalId: record.userIdentity.PrincipalId,
    };
  }
  return out;
}

const sequenceOf = (record: DynamoDBRecord): string => {
  const seq = record.dynamodb?.SequenceNumber;
  if (seq === undefined) throw new Error(`Stream record ${record.eventID ?? '?'} has no sequence`);
  return seq;
};

/** A sleep that `fire()` cuts short. */
class Alarm {
  private readonly waiters = new Set<() => void>();

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  fire(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

class Poller implements StreamPoller {
  private readonly ddb: DynamoDBClient;
  private readonly streams: DynamoDBStreamsClient;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly discoveryIntervalMs: number;
  private readonly onError: (err: unknown) => void;

  private streamArn: string | undefined;
  /** The stream the loaded checkpoint file belongs to (if any). */
  private readonly fileStreamArn: string | undefined;
  private checkpoints = new Map<string, ShardCheckpoint>();
  private readonly workers = new Map<string, Promise<void>>();
  private stopped = false;
  private readonly stopAlarm = new Alarm();
  private readonly discoveryAlarm = new Alarm();
  private readonly ready: Promise<void>;
  private markReady: () => void = () => undefined;
  private readonly main: Promise<void>;
  private writeChain: Promise<void> = Promise.resolve();
  private tempCounter = 0;

  constructor(private readonly opts: StreamPollerOptions) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 100;
    this.batchSize = opts.batchSize ?? 100;
    this.discoveryIntervalMs = opts.discoveryIntervalMs ?? 1000;
    this.onError = opts.onError ?? ((err) => console.error('[stream-poller]', err));
    const clientConfig = {
      endpoint: opts.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
    };
    this.ddb = new DynamoDBClient(clientConfig);
    this.streams = new DynamoDBStreamsClient(clientConfig);

    // Read synchronously so a corrupt checkpoint fails startStreamPoller instead of replaying.
    if (opts.checkpointFile !== undefined) {
      let text: string | undefined;
      try {
        text = readFileSync(opts.checkpointFile, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      if (text !== undefined) {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const parsed = checkpointSchema.safeParse(json);
        if (!parsed.success) {
          throw new Error(
            `Checkpoint file ${opts.checkpointFile} is not a stream checkpoint: fix or delete it (deleting replays the stream from TRIM_HORIZON)`,
          );
        }
        this.fileStreamArn = parsed.data.streamArn;
        this.checkpoints = new Map(Object.entries(parsed.data.shards));
      }
    }
    this.ready = new Promise((resolve) => {
      this.markReady = resolve;
    });
    this.main = this.run();
  }

  // ---- lifecycle -------------------------------------------------------------------------

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopAlarm.fire();
    this.discoveryAlarm.fire();
    await this.main;
    await this.writeChain;
    this.ddb.destroy();
    this.streams.destroy();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      try {
        await this.refreshStreamArn();
        await this.discover();
        attempt = 0;
      } catch (err) {
        this.onError(err);
        attempt += 1;
      }
      await this.discoveryAlarm.sleep(
        attempt === 0 ? this.discoveryIntervalMs : Math.min(200 * 2 ** attempt, 5000),
      );
    }
    await Promise.all(this.workers.values());
  }

  /** The table's current stream. A recreated table has a new stream: start that one afresh. */
  private async refreshStreamArn(): Promise<void> {
    const table = await this.ddb.send(new DescribeTableCommand({ TableName: this.opts.tableName }));
    const arn = table.Table?.LatestStreamArn;
    if (arn === undefined || table.Table?.StreamSpecification?.StreamEnabled !== true) {
      throw new Error(`Table ${this.opts.tableName} has no enabled stream`);
    }
    if (arn === this.streamArn) return;
    const previous = this.streamArn ?? this.fileStreamArn;
    if (previous !== undefined && previous !== arn) {
      this.onError(
        new Error(
          `Stream changed from ${previous} to ${arn} (table recreated?): old checkpoints dropped, reading the new stream from TRIM_HORIZON`,
        ),
      );
      const old = this.streamArn;
      this.streamArn = arn; // workers of the old stream see the change and exit
      if (old !== undefined) this.stopAlarm.fire();
      await Promise.all(this.workers.values());
      this.checkpoints = new Map();
      await this.persist();
    }
    this.streamArn = arn;
    this.markReady();
  }

  private async listShards(streamArn: string): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const out = await this.streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }),
      );
      shards.push(...(out.StreamDescription?.Shards ?? []));
      start = out.StreamDescription?.LastEvaluatedShardId;
    } while (start !== undefined);
    return shards;
  }

  private async discover(): Promise<void> {
    const streamArn = this.streamArn;
    if (streamArn === undefined || this.stopped) return;
    const shards = await this.listShards(streamArn);
    const present = new Set(shards.map((s) => s.ShardId));
    for (const shard of shards) {
      const id = shard.ShardId;
      if (id === undefined || this.workers.has(id) || this.checkpoints.get(id)?.finished) continue;
      const parent = shard.ParentShardId;
      // A parent still listed must be finished first; one no longer listed has been trimmed.
      if (parent !== undefined && present.has(parent) && !this.checkpoints.get(parent)?.finished) {
        continue;
      }
      // A shard read to its end lets discovery start its children at once; a worker that
      // failed is restarted (from the checkpoint) at the next regular discovery.
      let finishedNormally = false;
      const worker = this.work(streamArn, id)
        .then(
          () => {
            finishedNormally = true;
          },
          (err: unknown) => this.onError(err),
        )
        .finally(() => {
          this.workers.delete(id);
          if (finishedNormally) this.discoveryAlarm.fire();
        });
      this.workers.set(id, worker);
    }
    // Forget finished shards that DynamoDB no longer lists.
    let pruned = false;
    for (const [id, cp] of this.checkpoints) {
      if (cp.finished && !present.has(id)) {
        this.checkpoints.delete(id);
        pruned = true;
      }
    }
    if (pruned) await this.persist();
  }

  // ---- one shard -----------------------------------------------------------------------

  private active(streamArn: string): boolean {
    return !this.stopped && this.streamArn === streamArn;
  }

  private async iteratorFor(
    streamArn: string,
    shardId: string,
    fromTrimHorizon = false,
  ): Promise<string | undefined> {
    const seq = fromTrimHorizon ? undefined : this.checkpoints.get(shardId)?.sequenceNumber;
    const input: GetShardIteratorCommandInput =
      seq === undefined
        ? { StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }
        : {
            StreamArn: streamArn,
            ShardId: shardId,
            ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
            SequenceNumber: seq,
          };
    return (await this.streams.send(new GetShardIteratorCommand(input))).ShardIterator;
  }

  private async work(streamArn: string, shardId: string): Promise<void> {
    let iterator: string | undefined;
    let fromTrimHorizon = false;
    let failures = 0;
    while (this.active(streamArn)) {
      let records: SdkRecord[];
      let next: string | undefined;
      try {
        iterator ??= await this.iteratorFor(streamArn, shardId, fromTrimHorizon);
        fromTrimHorizon = false;
        if (iterator === undefined) throw new Error(`No iterator for shard ${shardId}`);
        const out = await this.streams.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: this.batchSize }),
        );
        records = out.Records ?? [];
        next = out.NextShardIterator;
        failures = 0;
      } catch (err) {
        const name = errorName(err);
        if (name === 'ExpiredIteratorException') {
          iterator = undefined; // re-obtained from the checkpoint
          continue;
        }
        if (name === 'TrimmedDataAccessException') {
          // Records after the checkpoint are older than the retention: they are gone.
          this.onError(err);
          iterator = undefined;
          fromTrimHorizon = true;
          continue;
        }
        if (name === 'ResourceNotFoundException') {
          this.onError(err);
          return; // shard or stream gone; discovery decides what is next
        }
        this.onError(err);
        failures += 1;
        iterator = undefined;
        await this.stopAlarm.sleep(Math.min(100 * 2 ** failures, 5000));
        continue;
      }

      if (records.length > 0) {
        const done = await this.deliver(streamArn, shardId, records);
        if (!done) return; // stopped before the batch was handled: it will be re-read
      }
      if (next === undefined || next === null) {
        // Closed shard read to its end: children may start.
        if (this.streamArn === streamArn) {
          this.checkpoints.set(shardId, { ...this.checkpoints.get(shardId), finished: true });
          await this.persist();
        }
        return;
      }
      iterator = next;
      if (records.length === 0) await this.stopAlarm.sleep(this.pollIntervalMs);
    }
  }

  /** Hands one batch to the handler until all of it succeeded. False if stopped first. */
  private async deliver(streamArn: string, shardId: string, raw: SdkRecord[]): Promise<boolean> {
    let pending = raw.map((record) => toLambdaRecord(record, streamArn));
    let attempt = 0;
    const retryLater = async (err: unknown): Promise<void> => {
      this.onError(err);
      attempt += 1;
      await this.stopAlarm.sleep(Math.min(50 * 2 ** attempt, 2000));
    };
    while (pending.length > 0) {
      if (!this.active(streamArn)) return false;
      const last = pending[pending.length - 1];
      if (last === undefined) break;
      const filter = this.opts.filter;
      const delivered = filter === undefined ? pending : pending.filter((r) => filter(r));
      if (delivered.length === 0) {
        await this.checkpoint(streamArn, shardId, sequenceOf(last));
        return true;
      }
      let response: DynamoDBBatchResponse | void;
      try {
        // A fresh copy per call, as Lambda sends fresh JSON: a retry is not affected by mutations.
        response = await this.opts.handler({ Records: structuredClone(delivered) });
      } catch (err) {
        await retryLater(err);
        continue;
      }
      const failed = response?.batchItemFailures ?? [];
      if (failed.length === 0) {
        await this.checkpoint(streamArn, shardId, sequenceOf(last));
        return true;
      }
      const deliveredSeqs = new Set(delivered.map(sequenceOf));
      const invalid = failed.find((f) => !deliveredSeqs.has(f.itemIdentifier));
      if (invalid !== undefined) {
        // Lambda treats an unknown itemIdentifier as a failure of the whole batch.
        await retryLater(
          new Error(`batchItemFailures has an unknown itemIdentifier: ${invalid.itemIdentifier}`),
        );
        continue;
      }
      const failedSeqs = new Set(failed.map((f) => f.itemIdentifier));
      const first = pending.findIndex((r) => failedSeqs.has(sequenceOf(r)));
      const before = pending[first - 1];
      if (before !== undefined) await this.checkpoint(streamArn, shardId, sequenceOf(before));
      pending = pending.slice(first);
      await retryLater(
        new Error(
          `Handler reported ${failed.length} failed record(s); retrying from ${sequenceOf(pending[0] ?? last)}`,
        ),
      );
    }
    return true;
  }

  // ---- checkpoints ---------------------------------------------------------------------

  private async checkpoint(streamArn: string, shardId: string, sequenceNumber: string) {
    if (this.streamArn !== streamArn) return; // the stream was replaced meanwhile
    this.checkpoints.set(shardId, { sequenceNumber });
    await this.persist();
  }

  /** Writes the whole checkpoint state atomically (temp file, fsync, rename), one write at a time. */
  private persist(): Promise<void> {
    const file = this.opts.checkpointFile;
    if (file === undefined) return Promise.resolve();
    const write = async (): Promise<void> => {
      const streamArn = this.streamArn;
      if (streamArn === undefined) return;
      const body = JSON.stringify(
        { version: 1, streamArn, shards: Object.fromEntries(this.checkpoints) },
        null,
        2,
      );
      await mkdir(path.dirname(file), { recursive: true });
      this.tempCounter += 1;
      const temp = `${file}.${process.pid}.${this.tempCounter}.tmp`;
      try {
        const handle = await open(temp, 'w');
        try {
          await handle.writeFile(body);
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temp, file);
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
    };
    const result = this.writeChain.then(write);
    this.writeChain = result.catch(() => undefined); // the caller gets the error
    return result;
  }

  // ---- drain ---------------------------------------------------------------------------

  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const timedOut = (what: string): Error =>
      new Error(`Stream poller drain timed out after ${timeoutMs} ms: ${what}`);
    if (this.stopped) throw new Error('Stream poller is stopped: nothing will be drained');

    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), timeoutMs);
    });
    try {
      if ((await Promise.race([this.ready.then(() => 'ready' as const), expired])) !== 'ready') {
        throw timedOut(`table ${this.opts.tableName}'s stream was never found`);
      }
      const streamArn = this.streamArn;
      if (streamArn === undefined) throw timedOut('no stream');
      const targets = await Promise.race([this.tips(streamArn), expired]);
      if (targets === 'expired') throw timedOut('could not read the end of the stream');
      this.discoveryAlarm.fire();
      for (;;) {
        const behind = [...targets].filter(([shardId, target]) => {
          const cp = this.checkpoints.get(shardId);
          if (cp?.finished) return false;
          return (
            cp?.sequenceNumber === undefined ||
            compareSequenceNumbers(cp.sequenceNumber, target) < 0
          );
        });
        if (behind.length === 0) {
          await this.writeChain; // ... and in the checkpoint file
          return;
        }
        if (this.stopped) throw new Error('Stream poller stopped during drain');
        if (Date.now() > deadline) {
          throw timedOut(
            behind
              .map(
                ([shardId, target]) =>
                  `${shardId} at ${this.checkpoints.get(shardId)?.sequenceNumber ?? 'start'}, needs ${target}`,
              )
              .join('; '),
          );
        }
        await this.stopAlarm.sleep(10);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The last sequence number of every unfinished shard, read from the checkpoint to the end.
   * (DynamoDB Local returns an empty page only at the end of a shard.)
   */
  private async tips(streamArn: string): Promise<Map<string, string>> {
    const targets = new Map<string, string>();
    for (const shard of await this.listShards(streamArn)) {
      const id = shard.ShardId;
      if (id === undefined || this.checkpoints.get(id)?.finished) continue;
      let iterator = await this.iteratorFor(streamArn, id);
      while (iterator !== undefined) {
        const out = await this.streams.send(
          new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }),
        );
        const records = out.Records ?? [];
        const lastSeq = records[records.length - 1]?.dynamodb?.SequenceNumber;
        if (lastSeq !== undefined) targets.set(id, lastSeq);
        if (records.length === 0) break;
        iterator = out.NextShardIterator;
      }
    }
    return targets;
  }
}

export function startStreamPoller(opts: StreamPollerOptions): StreamPoller {
  const poller = new Poller(opts);
  return { stop: () => poller.stop(), drain: (timeoutMs) => poller.drain(timeoutMs) };
}
