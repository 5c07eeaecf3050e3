// navigate moves the app to another screen. app.js provides the router;
// screens call this so that they need not import the app itself.
let router = () => {};

export function setRouter(fn) {
  router = fn;
}

export function navigate(path, opts) {
  router(path, opts);
}

// isPortal reports whether path is one of the law-enforcement portal's,
// which stands apart from the app, whoever is logged in to it.
export function isPortal(path) {
  return path === '/legal' || path.startsWith('/legal/');
}
