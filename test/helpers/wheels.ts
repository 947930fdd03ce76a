import { execFileSync } from 'node:child_process';

/*
 * Builds tiny pure-Python wheels with nothing but the standard library (zipfile), so tests can
 * install packages from a local --find-links directory without a network round trip.
 */
const BUILD = String.raw`
import base64, hashlib, os, sys, zipfile
out, name, version = sys.argv[1], sys.argv[2], sys.argv[3]
deps = sys.argv[4:]
mod = name.replace("-", "_")
dist = f"{mod}-{version}"
files = {
    f"{mod}/__init__.py": f"__version__ = {version!r}\n",
    f"{dist}.dist-info/METADATA": "Metadata-Version: 2.1\nName: %s\nVersion: %s\n%s" % (name, version, "".join(f"Requires-Dist: {d}\n" for d in deps)),
    f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: pymgr-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}
pad = int(os.environ.get("PYMGR_TEST_WHEEL_PAD", "0"))
if pad:
    files[f"{mod}/_pad.py"] = "#" * (pad - 1) + "\n"
record = []
path = os.path.join(out, f"{dist}-py3-none-any.whl")
with zipfile.ZipFile(path, "w") as z:
    for fn, text in files.items():
        data = text.encode()
        z.writestr(fn, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{fn},sha256={digest},{len(data)}")
    record.append(f"{dist}.dist-info/RECORD,,")
    z.writestr(f"{dist}.dist-info/RECORD", "\n".join(record) + "\n")
print(path)
`;

/**
 * Write `<name>-<version>-py3-none-any.whl` (importable as `name` with - → _) into `dir`.
 * `padBytes` adds a module `<name>/_pad.py` of that size (to fill a small disk).
 */
export function buildWheel(dir: string, name: string, version: string, deps: string[] = [], python = 'python3', options: { padBytes?: number } = {}): string {
  return execFileSync(python, ['-c', BUILD, dir, name, version, ...deps], {
    encoding: 'utf8',
    env: { ...process.env, PYMGR_TEST_WHEEL_PAD: String(options.padBytes ?? 0) },
  }).trim();
}
