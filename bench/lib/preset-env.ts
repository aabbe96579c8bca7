/**
 * Imported first by bench/run.ts, before any module of the service: the handlers' logger reads
 * its level when it is created. As deployed (serverless.yml): INFO unless LOG_LEVEL says otherwise.
 */
process.env.POWERTOOLS_LOG_LEVEL = process.env.LOG_LEVEL ?? 'INFO';
process.env.POWERTOOLS_SERVICE_NAME ??= 'money-movement';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
// The SDK's notice that it will need Node 22 in 2027, printed once per process.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export {};
