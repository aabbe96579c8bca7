import { DeleteObjectsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { PageBucket } from './publish';

/** The page's bucket in S3. Every object is revalidated by CloudFront (no-cache): a deploy shows at once. */
export function s3PageBucket(client: S3Client, bucket: string): PageBucket {
  return {
    async put(key, body, contentType) {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: contentType,
          CacheControl: 'no-cache',
        }),
      );
    },
    async remove(keys) {
      const { Errors = [] } = await client.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = Errors.map((e) => `${e.Key}: ${e.Code}`);
      if (failed.length > 0) throw new Error(`could not delete ${failed.join(', ')}`);
    },
  };
}
