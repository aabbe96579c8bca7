// Resolves the HTTP API's allowed CORS origins for serverless.yml from CORS_ORIGINS
// (comma-separated): configuration, never '*'. The local stage defaults to the local web page;
// a deployed stage must name its origins.
module.exports.origins = ({ options }) => {
  const stage = (options && options.stage) || 'dev';
  const configured = process.env.CORS_ORIGINS;
  if (!configured && stage !== 'local') {
    throw new Error(
      `Set CORS_ORIGINS (comma-separated origins of the web page) to deploy stage ${stage}`,
    );
  }
  const origins = (configured || 'http://localhost:5173')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (origins.includes('*')) throw new Error('CORS_ORIGINS must list origins, not *');
  return origins;
};
