// navigate moves the app to another screen. app.js provides the router;
// screens call this so that they need not import the app itself.
let router = () => {};

export function setRouter(fn) {
  router = fn;
}

export function navigate(path, opts) {
  router(path, opts);
}
