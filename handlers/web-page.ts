import { S3Client } from '@aws-sdk/client-s3';
import files from 'web-page:files';
import { logger } from '../lib/logger';
import { respondToCloudFormation, webPageResource } from '../lib/web-page/publish';
import { s3PageBucket } from '../lib/web-page/s3-bucket';

const s3 = new S3Client({});

/** The stack's custom resource WebPage: uploads the built page and its config.json. */
export const publish = webPageResource({
  files,
  bucket: (name) => s3PageBucket(s3, name),
  respond: respondToCloudFormation,
  log: (message, fields) => logger.info(message, fields),
});
