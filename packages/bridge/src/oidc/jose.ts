/**
 * jose is an ES module only. It is loaded when the first logout token arrives, not with the
 * library: an app that never mounts the back-channel receiver never loads it, and one whose test
 * runner cannot load ES modules through `require` still loads the rest of the library.
 */
let loading: Promise<typeof import('jose')> | undefined;

export function loadJose(): Promise<typeof import('jose')> {
  loading ??= import('jose');
  return loading;
}
