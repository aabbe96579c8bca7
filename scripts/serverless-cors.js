// The HTTP API's CORS settings for serverless.yml, from one list: configuration, never '*'.
// A deployed stage allows its own web page (the CloudFront distribution of the same stack) and
// any further origins in CORS_ORIGINS (comma-separated, e.g. a custom domain); it is written
// into the template directly (resources.extensions), since the framework's own `cors` setting
// takes only literal strings. The local stage (serverless-offline) allows the local web page,
// whose origins npm start puts in CORS_ORIGINS.
const HEADERS = ['Authorization', 'Content-Type', 'Idempotency-Key'];
// Link: the next part of a CSV export; Content-Disposition: its file name.
const EXPOSED = ['Idempotent-Replayed', 'Retry-After', 'Link', 'Content-Disposition'];
// PUT: an operator's fee schedule (PUT /accounts/{accountId}/fees) from the web page.
const METHODS = ['GET', 'POST', 'PUT', 'OPTIONS'];

function configuredOrigins() {
  const origins = (process.env.CORS_ORIGINS || '')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (origins.includes('*')) throw new Error('CORS_ORIGINS must list origins, not *');
  return origins;
}

/** provider.httpApi.cors: what serverless-offline applies; deployed stages use `deployed`. */
module.exports.local = ({ options }) => {
  if (((options && options.stage) || 'dev') !== 'local') return false;
  const origins = configuredOrigins();
  return {
    allowedOrigins: origins.length > 0 ? origins : ['http://localhost:5173'],
    allowedHeaders: HEADERS,
    exposedResponseHeaders: EXPOSED,
    allowedMethods: METHODS,
  };
};

/** The deployed API's CorsConfiguration. */
module.exports.deployed = () => ({
  AllowOrigins: [
    { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': ['WebDistribution', 'DomainName'] }]] },
    ...configuredOrigins(),
  ],
  AllowHeaders: HEADERS,
  ExposeHeaders: EXPOSED,
  AllowMethods: METHODS,
  MaxAge: 600,
});
