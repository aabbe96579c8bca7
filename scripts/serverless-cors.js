// Resolves the HTTP API's allowed CORS origins for serverless.yml from CORS_ORIGINS
// (comma-separated): configuration, never '*'. Locally `npm start` sets it to the web page.
module.exports.origins = () => {
  const origins = (process.env.CORS_ORIGINS || 'http://localhost:5173')
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  if (origins.includes('*')) throw new Error('CORS_ORIGINS must list origins, not *');
  return origins;
};
