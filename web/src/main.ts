// Placeholder until the web page lands: shows that the page is served.
const app = document.getElementById('app');
if (app) app.textContent = 'Money movement: the web page is being built.';
