/** Hide credentials in URLs (`https://user:token@host/...` -> `https://user:***@host/...`). */
export function redact(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+)(?::([^\s/@]*))?@/gi, (_m, scheme: string, user: string, pass?: string) =>
    pass === undefined ? `${scheme}***@` : `${scheme}${user}:***@`,
  );
}

/** Redact every argument of a command line. */
export function redactArgs(args: readonly string[]): string[] {
  return args.map(redact);
}
