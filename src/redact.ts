/**
 * Hide credentials in URLs (`https://user:token@host/...` -> `https://user:***@host/...`; a bare
 * `https://token@host` -> `https://***@host`). The user of an `ssh://user@host` address is a login
 * name, not a secret: it stays (its password, if any, does not).
 */
export function redact(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)([^\s/@:]+)(?::([^\s/@]*))?@/gi, (_m, scheme: string, user: string, pass?: string) =>
    pass !== undefined ? `${scheme}${user}:***@` : /^(git\+)?ssh:\/\/$/i.test(scheme) ? `${scheme}${user}@` : `${scheme}***@`,
  );
}

/** Redact every argument of a command line. */
export function redactArgs(args: readonly string[]): string[] {
  return args.map(redact);
}
