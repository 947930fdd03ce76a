import type { ExecResult, Executor } from '../../src/contracts.js';
import { PymgrError, redact, redactArgs } from '../../src/core/kit.js';

/** Why an install failed, as far as the installer's own words tell. */
export type InstallFailureCause = 'not-found' | 'offline' | 'build-failed' | 'syntax' | 'disk-full' | 'no-pip' | 'tls' | 'other';

/**
 * The installer's own error lines: uv's `error:` line with its `cause:`/`hint:` lines (and the
 * indented block under them), or pip's `ERROR:` lines; else the last lines of its output.
 */
export function installerMessage(output: string, max = 12): string[] {
  const lines = output.split(/\r?\n/).filter((l) => !/^Using Python .* environment at/.test(l));
  const uvStart = lines.findIndex((l) => /^error: /.test(l));
  if (uvStart >= 0) {
    return lines.slice(uvStart).filter((l) => l.trim() !== '').slice(0, max);
  }
  const pip = lines.filter((l) => /^ERROR: /.test(l));
  if (pip.length) return pip.slice(-max);
  return lines.filter((l) => l.trim() !== '').slice(-Math.min(max, 5));
}

/** The cause the installer's words point to. */
export function classifyInstallFailure(output: string): InstallFailureCause {
  if (/No space left on device|ENOSPC|Disk quota exceeded/i.test(output)) return 'disk-full';
  // Checked before "not found": pip says "No matching distribution" after failing to verify the index.
  if (/UnknownIssuer|invalid peer certificate|CERTIFICATE_VERIFY_FAILED|certificate verify failed|self[- ]signed certificate in certificate chain/i.test(output)) return 'tls';
  if (/network was disabled|needs to be downloaded from a registry|offline/i.test(output) && /unsatisfiable|not found|cache/i.test(output)) return 'offline';
  if (/was not found in the package registry|No matching distribution found|Could not find a version that satisfies|there is no version of|not found in the provided package locations/i.test(output)) return 'not-found';
  if (/build backend returned an error|Failed to build|subprocess-exited-with-error|metadata-generation-failed|Failed building wheel/i.test(output)) return 'build-failed';
  if (/Failed to parse|Invalid requirement|Couldn't parse requirement|Expected (?:package name|version)/i.test(output)) return 'syntax';
  if (/No module named pip/.test(output)) return 'no-pip';
  return 'other';
}

/** The first name the installer's message mentions in backticks or after "for"/"requirement". */
function packageIn(message: string): string | undefined {
  return /`([A-Za-z0-9][A-Za-z0-9._-]*)(?:[=<>!~][^`]*)?`/.exec(message)?.[1] ??
    /no (?:version|versions) of ([A-Za-z0-9][A-Za-z0-9._-]*?)(?:[=<>!~]|\s|$)/.exec(message)?.[1] ??
    /Because (?!there\b)([A-Za-z0-9][A-Za-z0-9._-]*?)(?:[=<>!~]|\s|$)/.exec(message)?.[1] ??
    /(?:distribution found for|satisfies the requirement) ([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(message)?.[1];
}

/** A hint that fits the cause. `python` names the interpreter the venv was built from, when known. */
export function installHint(cause: InstallFailureCause, message: string, python?: string): string {
  const pkg = packageIn(message);
  const it = pkg ? `\`${pkg}\`` : 'a package';
  switch (cause) {
    case 'not-found':
      return `${it} (or that version of it) is not on the index: check its name and version pin in the project's requirements, and the index settings (--index-url, index.url, --find-links).`;
    case 'offline':
      return `pymgr is offline (--offline / index.offline) and ${it} is not in the installer's cache: run once online, or pass --find-links with a directory that holds it.`;
    case 'build-failed':
      return `${it} had to be built from source, and the build failed${python ? ` on Python ${python}` : ''}. A release that predates this Python often fails so: ask for another Python (--python 3.11, or a .python-version file), or pin a version of ${it} that publishes wheels for it.`;
    case 'syntax':
      return 'A requirement line does not parse: fix it in the file named above (PEP 508: name, extras, version specifiers).';
    case 'disk-full':
      return 'The disk is full: free space (the installer\'s cache can be moved with providers.uv.cacheDir / UV_CACHE_DIR), then run `pymgr setup` again.';
    case 'tls':
      return `The index's TLS certificate is not trusted where the installer runs (a TLS-inspecting proxy, a private CA). In a container pymgr carries the host's CA bundle in unless docker.inherit leaves out \`ca\` (default: [ca, proxy, index]); on the host set SSL_CERT_FILE (uv) and PIP_CERT (pip) to a bundle that holds the CA.`;
    case 'no-pip':
      return 'The venv has no pip, which this manager installs with: run `pymgr setup` again (pymgr adds pip or rebuilds the venv).';
    default:
      return 'The installer\'s message above says what it could not do; `pymgr setup -v` shows its whole output.';
  }
}

/**
 * The error for a failed install: the installer's own error first (not the command line, which
 * goes to `details.command` for `-v` and `--json`), and a hint that fits the cause (`offline`: the
 * install ran offline, so a package not found is one missing from the cache).
 */
export function installFailed(executor: Executor, result: ExecResult, purpose: string, python?: string, options: { offline?: boolean } = {}): PymgrError {
  const output = redact(`${result.stderr}\n${result.stdout}`);
  const lines = installerMessage(result.stderr || result.stdout);
  const said = result.timedOut ? 'other' : classifyInstallFailure(output);
  // Offline, pip says only "no matching distribution": it is the cache (and find-links) that lack it, not the index.
  const cause = said === 'not-found' && options.offline ? 'offline' : said;
  const why = result.timedOut ? 'timed out' : `exit ${result.exitCode}`;
  const first = lines[0]?.replace(/^(error|ERROR): /, '') ?? `the installer failed (${why})`;
  const rest = lines.slice(1).map(redact);
  return new PymgrError('COMMAND_FAILED', `Could not ${purpose}: ${redact(first)}${rest.length ? `\n${rest.join('\n')}` : ''}`, {
    hint: installHint(cause, lines.join('\n'), python),
    details: {
      command: redactArgs(result.command),
      exitCode: result.exitCode,
      cause,
      stderr: redact(lines.join('\n')),
      on: executor.description,
    },
  });
}
