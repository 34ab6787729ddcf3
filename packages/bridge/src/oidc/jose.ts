/**
 * jose is an ES module only. It is loaded when the first logout token arrives, not with the
 * library: an app that never mounts the back-channel receiver never loads it, and one whose test
 * runner cannot load ES modules through `require` still loads the rest of the library.
 */
export function loadJose(): Promise<typeof import('jose')> {
  // Node keeps the module once loaded: every later call resolves to the same one.
  return import('jose');
}
