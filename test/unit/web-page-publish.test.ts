import type {
  CloudFormationCustomResourceEvent,
  CloudFormationCustomResourceResponse,
} from 'aws-lambda';
import { webPageResource, type PageBucket } from '../../lib/web-page/publish';

const files = [
  { path: '/index.html', contentType: 'text/html; charset=utf-8', body: '<!doctype html>' },
  { path: '/app.js', contentType: 'text/javascript; charset=utf-8', body: 'void 0;' },
];
const config = {
  apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com',
  cognitoEndpoint: 'https://cognito-idp.eu-west-1.amazonaws.com',
  clientId: 'client-1',
};

function setup(failWith?: Error) {
  const objects = new Map<string, { body: string; contentType: string }>();
  const bucketsUsed: string[] = [];
  const bucket: PageBucket = {
    async put(key, body, contentType) {
      if (failWith) throw failWith;
      objects.set(key, { body, contentType });
    },
    async remove(keys) {
      if (failWith) throw failWith;
      for (const key of keys) objects.delete(key);
    },
  };
  const answers: CloudFormationCustomResourceResponse[] = [];
  const handler = webPageResource({
    files,
    bucket: (name) => {
      bucketsUsed.push(name);
      return bucket;
    },
    respond: async (url, response) => {
      expect(url).toBe('https://cloudformation-answer.example/presigned');
      answers.push(response);
    },
    log: () => undefined,
  });
  return { handler, objects, answers, bucketsUsed };
}

function event(
  type: 'Create' | 'Update' | 'Delete',
  properties: Record<string, unknown> = { BucketName: 'page-bucket', Config: config },
): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:eu-west-1:1:function:publish',
    ResponseURL: 'https://cloudformation-answer.example/presigned',
    StackId: 'stack-1',
    RequestId: 'request-1',
    LogicalResourceId: 'WebPage',
    ResourceType: 'Custom::WebPage',
    ResourceProperties: { ServiceToken: 'x', ...properties },
  };
  if (type === 'Create') return { ...common, RequestType: 'Create' };
  if (type === 'Update') {
    return {
      ...common,
      RequestType: 'Update',
      PhysicalResourceId: 'web-page:WebPage',
      OldResourceProperties: common.ResourceProperties,
    };
  }
  return { ...common, RequestType: 'Delete', PhysicalResourceId: 'web-page:WebPage' };
}

describe('the WebPage custom resource', () => {
  it('uploads every page file and a config.json naming the stage, then answers SUCCESS', async () => {
    const { handler, objects, answers, bucketsUsed } = setup();
    await handler(event('Create'));
    expect(bucketsUsed).toEqual(['page-bucket']);
    expect([...objects.keys()]).toEqual(['index.html', 'app.js', 'config.json']);
    expect(objects.get('index.html')).toEqual({
      body: '<!doctype html>',
      contentType: 'text/html; charset=utf-8',
    });
    expect(JSON.parse(objects.get('config.json')?.body ?? '')).toEqual(config);
    expect(answers).toEqual([
      {
        Status: 'SUCCESS',
        PhysicalResourceId: 'web-page:WebPage',
        StackId: 'stack-1',
        RequestId: 'request-1',
        LogicalResourceId: 'WebPage',
      },
    ]);
  });

  it('uploads again on an update and keeps its physical id, so CloudFormation replaces nothing', async () => {
    const { handler, objects, answers } = setup();
    await handler(event('Update'));
    expect(objects.size).toBe(3);
    expect(answers[0]).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'web-page:WebPage' });
  });

  it('removes what it uploaded on delete, so the stack can delete the bucket', async () => {
    const { handler, objects, answers } = setup();
    await handler(event('Create'));
    await handler(event('Delete'));
    expect(objects.size).toBe(0);
    expect(answers.map((a) => a.Status)).toEqual(['SUCCESS', 'SUCCESS']);
  });

  it('answers FAILED with the reason when the upload fails, instead of leaving CloudFormation waiting', async () => {
    const { handler, answers } = setup(new Error('Access Denied'));
    await handler(event('Create'));
    expect(answers).toEqual([
      expect.objectContaining({ Status: 'FAILED', Reason: 'Access Denied' }),
    ]);
  });

  it('refuses a config.json that would send the page to a plain-http API, uploading nothing', async () => {
    const { handler, objects, answers } = setup();
    await handler(
      event('Create', {
        BucketName: 'page-bucket',
        Config: { ...config, apiUrl: 'http://abc.execute-api.eu-west-1.amazonaws.com' },
      }),
    );
    expect(objects.size).toBe(0);
    expect(answers[0]?.Status).toBe('FAILED');
  });

  it('lets a stack deletion go on when cleaning up fails (the bucket deletion then says why)', async () => {
    const { handler, answers } = setup(new Error('Access Denied'));
    await handler(event('Delete'));
    expect(answers).toEqual([
      expect.objectContaining({ Status: 'SUCCESS', Reason: 'Access Denied' }),
    ]);
  });
});
