import type {
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceResponse,
} from 'aws-lambda';
import * as z from 'zod/mini';

/**
 * The web page in a deployed stack: CloudFormation calls this custom resource after the API,
 * the user pool and the bucket exist, so the page's config.json can name them. Create and
 * Update upload the built page and config.json; Delete removes them, so the stack can delete
 * its bucket. CloudFormation always gets an answer, or it would wait an hour for one.
 */

/** Where the page goes: the bucket, as the adapter (lib/web-page/s3-bucket.ts) offers it. */
export interface PageBucket {
  put(key: string, body: string, contentType: string): Promise<void>;
  remove(keys: string[]): Promise<void>;
}

/** One file of the built page (web/build.ts), by its URL path. */
export interface PageFile {
  path: string;
  contentType: string;
  body: string;
}

/** What the template passes (serverless.yml, resource WebPage). */
const properties = z.object({
  BucketName: z.string().check(z.minLength(3)),
  Config: z.strictObject({
    apiUrl: z.url({ protocol: /^https$/ }),
    cognitoEndpoint: z.url({ protocol: /^https$/ }),
    clientId: z.string().check(z.minLength(1)),
  }),
});

export interface PublishDeps {
  files: PageFile[];
  bucket(name: string): PageBucket;
  /** Sends CloudFormation the outcome (a PUT to the event's pre-signed ResponseURL). */
  respond(url: string, response: CloudFormationCustomResourceResponse): Promise<void>;
  log(message: string, fields: Record<string, unknown>): void;
}

const keyOf = (path: string) => path.replace(/^\/+/, '');

/** The page as served: its built files and the config.json naming where the API is. */
export function pageWithConfig(files: PageFile[], config: object): PageFile[] {
  return [
    ...files,
    { path: '/config.json', contentType: 'application/json', body: JSON.stringify(config) },
  ];
}

export function webPageResource(deps: PublishDeps) {
  return async (event: CloudFormationCustomResourceEvent): Promise<void> => {
    const physicalId =
      event.RequestType === 'Create'
        ? `web-page:${event.LogicalResourceId}`
        : event.PhysicalResourceId;
    const common = {
      PhysicalResourceId: physicalId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
    };
    try {
      const props = properties.parse(event.ResourceProperties);
      const bucket = deps.bucket(props.BucketName);
      const page = pageWithConfig(deps.files, props.Config);
      const keys = page.map((file) => keyOf(file.path));
      if (event.RequestType === 'Delete') {
        await bucket.remove(keys);
      } else {
        for (const file of page) await bucket.put(keyOf(file.path), file.body, file.contentType);
      }
      deps.log('web page ' + (event.RequestType === 'Delete' ? 'removed' : 'published'), {
        requestType: event.RequestType,
        bucket: props.BucketName,
        keys,
      });
      await deps.respond(event.ResponseURL, { ...common, Status: 'SUCCESS' });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      deps.log('web page not published', { requestType: event.RequestType, reason });
      // A Delete that cannot clean up must not wedge the stack: the bucket's own deletion
      // then fails with a clear "bucket not empty", which an operator can act on.
      await deps.respond(event.ResponseURL, {
        ...common,
        Status: event.RequestType === 'Delete' ? 'SUCCESS' : 'FAILED',
        Reason: reason.slice(0, 500),
      });
    }
  };
}

/** The real answer to CloudFormation: a PUT of the JSON to the pre-signed S3 URL. */
export async function respondToCloudFormation(
  url: string,
  response: CloudFormationCustomResourceResponse,
): Promise<void> {
  const body = JSON.stringify(response);
  // The URL is pre-signed without a content type: send none.
  const answer = await fetch(url, { method: 'PUT', body, headers: { 'content-type': '' } });
  if (!answer.ok) throw new Error(`CloudFormation's response URL answered ${answer.status}`);
}
