import type { PythonInterpreter, PythonRequest } from '../../src/contracts.js';
import { PymgrError, matchPythonVersion } from '../../src/core/kit.js';

/** The newest interpreter whose version satisfies the request. */
export function pickInterpreter(pythons: PythonInterpreter[], request: string): PythonInterpreter | undefined {
  const version = matchPythonVersion(request, pythons.map((p) => p.version));
  return version ? pythons.find((p) => p.version === version) : undefined;
}

/** PYTHON_UNAVAILABLE naming what is installed and how to provide the requested one. */
export function pythonUnavailable(manager: string, request: PythonRequest, installed: PythonInterpreter[], hint: string): PymgrError {
  const versions = [...new Set(installed.map((p) => p.version))];
  return new PymgrError(
    'PYTHON_UNAVAILABLE',
    `No Python matching "${request.raw}" (from ${request.sourcePath ?? request.source}) is available to ${manager}; installed: ${versions.join(', ') || 'none'}`,
    { hint, details: { request: request.raw, source: request.source, installed: versions } },
  );
}
