/** The built web page, put into the publishing function's bundle at package time (scripts/esbuild-plugins.js). */
declare module 'web-page:files' {
  const files: import('./publish').PageFile[];
  export default files;
}
