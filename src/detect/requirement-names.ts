/**
 * Distribution names from PEP 508 requirement strings and pip requirement-file lines.
 * Only the name is taken; versions, extras and URLs are dropped. Requirements with an environment
 * marker are reported separately: whether they get installed depends on the interpreter.
 */

/** PEP 503 normalisation: lowercase, runs of `-`, `_`, `.` become one `-`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

export interface RequirementName {
  /** Normalised name. */
  name: string;
  /** True when the requirement has an environment marker (`; python_version < "3.9"`). */
  conditional: boolean;
}

const NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(.*)$/s;

/**
 * The name in a PEP 508 requirement string (`attrs[tests]>=23; python_version>"3.8"`), or undefined when
 * the string does not start with a valid name followed by extras, a version, a URL, a marker or nothing.
 */
export function parseRequirementName(requirement: string): RequirementName | undefined {
  const m = NAME.exec(requirement.trim());
  if (!m) return undefined;
  const rest = m[2];
  if (rest !== '' && !/^[[(<>=!~;@]/.test(rest)) return undefined;
  return { name: normalizeName(m[1]), conditional: rest.includes(';') };
}

/** The `#egg=name` fragment of a URL or path, normalised, if any. */
export function findEggName(reference: string): string | undefined {
  const m = /[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(reference);
  return m ? normalizeName(m[1].replace(/\[.*$/, '')) : undefined;
}
