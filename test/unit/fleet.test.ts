/**
 * The pure parts of fleets: the fleet file (validation, defaults, relative paths, its JSON
 * Schema), placement, what happens when no engine answers, and the live view. The fleet on real
 * engines is test/integration/fleet.docker.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildEnvironments, place, type FleetEvent } from '../../src/api/fleet.js';
import { generateFleetJsonSchema, readFleetFile, resolveFleet } from '../../src/config/fleet-file.js';
import { createFleetView } from '../../src/cli/fleet-view.js';
import { PymgrError } from '../../src/errors.js';
import { repoRoot } from '../helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'pymgr-fleet-unit-'));
const FILE = join(dir, 'team.json');

function problems(data: unknown): string {
  try {
    resolveFleet(data, FILE);
  } catch (err) {
    expect(err).toBeInstanceOf(PymgrError);
    expect((err as PymgrError).code).toBe('CONFIG_INVALID');
    return (err as PymgrError).message;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('fleet file', () => {
  it('resolves projects against the file, fills defaults, merges config and names the fleet after the file', () => {
    const fleet = resolveFleet(
      {
        engines: ['default', 'unix:///run/e2.sock'],
        defaults: { image: 'base:1', mounts: ['/srv/wheels:/wheels:ro'], config: { index: { findLinks: ['/wheels'], offline: true } } },
        envs: [
          { name: 'a', project: 'projects/a' },
          { name: 'b', project: '/abs/b', image: 'other:2', provider: 'uv', python: '3.11', config: { index: { offline: false } }, target: '/srv/b' },
          { name: 'c', project: 'c', bake: 'c-env:1', mounts: [] },
        ],
      },
      FILE,
    );
    expect(fleet).toMatchObject({ concurrency: 3, caches: ['uv'], engines: ['default', 'unix:///run/e2.sock'] });
    // Named after the file, with a hash of its path: another folder's team.json is another fleet.
    expect(fleet.name).toMatch(/^team-[0-9a-f]{6}$/);
    const other = resolveFleet({ engines: ['default'], envs: [{ name: 'a', project: 'a', image: 'x' }] }, join(dir, 'elsewhere', 'team.json'));
    expect(other.name).toMatch(/^team-[0-9a-f]{6}$/);
    expect(other.name).not.toBe(fleet.name);
    expect(resolveFleet({ name: 'ci', engines: ['default'], envs: [{ name: 'a', project: 'a', image: 'x' }] }, FILE).name).toBe('ci');
    expect(fleet.envs[0]).toEqual({
      name: 'a',
      project: join(dir, 'projects/a'),
      image: 'base:1',
      mounts: ['/srv/wheels:/wheels:ro'],
      flags: { index: { findLinks: ['/wheels'], offline: true } },
    });
    // Objects merge key by key; provider and python are flags; the env's own values win.
    expect(fleet.envs[1]).toEqual({
      name: 'b',
      project: '/abs/b',
      image: 'other:2',
      target: '/srv/b',
      mounts: ['/srv/wheels:/wheels:ro'],
      flags: { provider: 'uv', python: '3.11', index: { findLinks: ['/wheels'], offline: false } },
    });
    expect(fleet.envs[2]).toMatchObject({ bake: 'c-env:1', mounts: [] });
  });

  it("an env's own values win over the defaults, and provider/python over the same keys in config", () => {
    const fleet = resolveFleet(
      {
        engines: ['default'],
        defaults: { image: 'x', provider: 'uv', python: '3.12', config: { provider: 'mise' } },
        envs: [
          { name: 'a', project: 'a', config: { provider: 'pyenv', python: '3.10' } },
          { name: 'b', project: 'b', provider: 'mise', config: { provider: 'pyenv' } },
          { name: 'c', project: 'c' },
        ],
      },
      FILE,
    );
    expect(fleet.envs.map((e) => [e.flags?.provider, e.flags?.python])).toEqual([
      ['pyenv', '3.10'],
      ['mise', '3.12'],
      ['uv', '3.12'],
    ]);
  });

  it('lists every problem with its place in the file', () => {
    const message = problems({
      engines: ['default', 'default'],
      concurrency: 0,
      envs: [
        { name: 'a', project: 'a' },
        { name: 'a', project: 'b', image: 'x', config: { provder: 'uv', index: { offline: 'yes' } } },
        { name: '-bad', project: 'c', image: 'x', mounts: ['relative:/x'] },
      ],
    });
    expect(message).toContain('engines[1]: "default" is listed twice');
    expect(message).toContain('concurrency:');
    expect(message).toContain('envs[0].image: no image');
    expect(message).toContain('envs[1].name: "a" is used twice');
    expect(message).toContain('envs[2].name:');
    expect(message).toContain('envs[2].mounts[0]: a bind mount host:container[:ro], both absolute');
  });

  it("checks each env's config against the config schema", () => {
    const message = problems({ engines: ['default'], envs: [{ name: 'a', project: 'a', image: 'x', config: { provder: 'uv', index: { offline: 'yes' } } }] });
    expect(message).toContain('envs[0].config.');
    expect(message).toMatch(/provder/);
    expect(message).toContain('envs[0].config.index.offline');
  });

  it('rejects unknown keys (naming the closest allowed one), no engines and no envs', () => {
    expect(problems({ engines: [], envs: [], extra: 1 })).toMatch(/engines[\s\S]*envs[\s\S]*extra/);
    const typo = problems({ engines: ['default'], concurency: 2, envs: [{ name: 'a', project: 'a', image: 'x', pyhton: '3.11' }] });
    expect(typo).toContain('did you mean "concurrency" for "concurency"?');
    expect(typo).toContain('envs[0]: Unrecognized key: "pyhton" (did you mean "python" for "pyhton"?)');
  });

  it('a missing file is USAGE, broken JSON is CONFIG_INVALID', async () => {
    await expect(readFleetFile(join(dir, 'nope.json'))).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('ENOENT') });
    writeFileSync(join(dir, 'broken.json'), '{ "engines": [');
    await expect(readFleetFile(join(dir, 'broken.json'))).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('not valid JSON') });
  });

  it('fleet.schema.json matches the zod schema and points env config at config.schema.json', () => {
    const committed = JSON.parse(readFileSync(join(repoRoot, 'fleet.schema.json'), 'utf8'));
    expect(committed).toEqual(generateFleetJsonSchema());
    expect(committed.properties.envs.items.properties.config.$ref).toBe('config.schema.json');
    expect(committed.properties.envs.items.required).toEqual(['name', 'project']);
    expect(committed.additionalProperties).toBe(false);
  });
});

describe('placement', () => {
  const engine = (name: string, index: number, over: Partial<{ up: boolean; busy: number; placed: number }> = {}) => ({ name, index, up: true, busy: 0, placed: 0, ...over });

  it('goes back to the recorded engine when it answers, even when it is the busiest', () => {
    const engines = [engine('e1', 0), engine('e2', 1, { busy: 5, placed: 9 })];
    expect(place('x', engines, 'e2')).toEqual({ engine: engines[1], why: 'sticky' });
  });

  it('moves an env whose engine is down, or unknown, to the least busy one', () => {
    const engines = [engine('e1', 0, { busy: 2 }), engine('e2', 1, { up: false }), engine('e3', 2, { busy: 1 })];
    expect(place('x', engines, 'e2')).toEqual({ engine: engines[2], why: 'moved', from: 'e2' });
    expect(place('x', engines, 'gone')).toEqual({ engine: engines[2], why: 'least busy' });
  });

  it('breaks ties by envs placed, then by the order listed', () => {
    expect(place('x', [engine('e1', 0, { placed: 3 }), engine('e2', 1, { placed: 2 })], undefined)?.engine.name).toBe('e2');
    expect(place('x', [engine('e1', 0, { placed: 2 }), engine('e2', 1, { placed: 2 })], undefined)?.engine.name).toBe('e1');
  });

  it('finds nothing when no engine answers', () => {
    expect(place('x', [engine('e1', 0, { up: false })], 'e1')).toBeUndefined();
  });
});

describe('buildEnvironments without an engine', () => {
  it('fails every env with DOCKER_UNAVAILABLE naming each engine, and throws nothing', async () => {
    const events: FleetEvent[] = [];
    const result = await buildEnvironments({
      envs: [
        { name: 'a', project: dir, image: 'x' },
        { name: 'b', project: dir, image: 'x' },
      ],
      engines: ['one', 'two'],
      connect: async (name) => {
        throw new PymgrError('DOCKER_UNAVAILABLE', `engine ${name} refused`);
      },
      onEvent: (e) => events.push(e),
    });
    expect(result.ok).toBe(false);
    expect(result.counts).toEqual({ ready: 0, failed: 2, cancelled: 0 });
    for (const env of result.envs) {
      expect(env.error).toMatchObject({ code: 'DOCKER_UNAVAILABLE', message: expect.stringContaining('one: engine one refused; two: engine two refused') });
    }
    expect(result.engines).toEqual([
      { name: 'one', up: false, error: 'engine one refused', envs: 0, volumes: [] },
      { name: 'two', up: false, error: 'engine two refused', envs: 0, volumes: [] },
    ]);
    expect(events.filter((e) => e.type === 'done')).toHaveLength(2);
  });

  it('refuses bad options before doing anything', async () => {
    await expect(buildEnvironments({ envs: [], engines: [] })).rejects.toMatchObject({ code: 'USAGE' });
    await expect(buildEnvironments({ envs: [], engines: ['x'], concurrency: 0 })).rejects.toMatchObject({ code: 'USAGE' });
    const twice = [{ name: 'a', project: dir, image: 'x' }, { name: 'a', project: dir, image: 'x' }];
    await expect(buildEnvironments({ envs: twice, engines: ['x'] })).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('"a" is listed twice') });
  });

  it('starts nothing once aborted: every env is cancelled', async () => {
    const controller = new AbortController();
    controller.abort();
    let connected = 0;
    const result = await buildEnvironments({
      envs: [{ name: 'a', project: dir, image: 'x' }],
      engines: ['one'],
      signal: controller.signal,
      connect: async () => {
        connected++;
        throw new Error('unused');
      },
    });
    expect(result.envs).toEqual([{ name: 'a', status: 'cancelled', verified: false, durationMs: 0 }]);
    expect(result.counts.cancelled).toBe(1);
    expect(connected).toBe(1);
  });
});

describe('the live view', () => {
  function capture(isTTY: boolean) {
    let text = '';
    return { io: { stdout: () => undefined, stderr: (t: string) => void (text += t), isTTY }, text: () => text };
  }
  const events: FleetEvent[] = [
    { type: 'start', fleet: 'team', envs: 3, engines: [{ name: 'e1', up: true }, { name: 'e2', up: false, error: 'refused' }] },
    { type: 'placed', env: 'a', engine: 'e1', why: 'least busy' },
    { type: 'placed', env: 'b', engine: 'e1', why: 'moved', from: 'e2' },
    { type: 'progress', env: 'a', engine: 'e1', message: 'install: install 1 requirement file(s)' },
    { type: 'warning', message: 'Could not write the placements file /x/p.json: EACCES' },
    { type: 'done', result: { name: 'a', status: 'ready', engine: 'e1', container: 'pymgr-team-a', action: 'created', python: '3.11.2', provider: 'uv', verified: true, durationMs: 4200 } },
  ];

  it('on a terminal: a line per running env and a summary, redrawn in place; finished envs stay above', async () => {
    const out = capture(true);
    let t = 0;
    const view = createFleetView(out.io, { json: false, verbose: false, columns: 100, now: () => (t += 100) });
    for (const e of events) view.onEvent(e);
    await new Promise((r) => setTimeout(r, 150));
    const text = out.text();
    expect(text).toContain('engine e2 does not answer: refused');
    expect(text).toContain('b → e1 (moved from e2)');
    expect(text).toContain('Could not write the placements file /x/p.json: EACCES');
    expect(text).toMatch(/✓ a on e1: created — Python 3\.11\.2, uv, pymgr-team-a \(4\.2 s\)/);
    // The live block after the last event: b running, the summary.
    const last = text.slice(text.lastIndexOf('\x1b[J'));
    expect(last).toMatch(/• b {2}e1 {2}[\d.]+ s {2}moved from e2/);
    expect(last).toMatch(/1 ready, 0 failed, 1 running, 1 queued — [\d.]+ s/);
    view.close();
    expect(out.text().endsWith('\x1b[J')).toBe(true); // the block is erased at the end
  });

  it('elsewhere: only the lines that stay; with --json: nothing', () => {
    const plain = capture(false);
    const view = createFleetView(plain.io, { json: false, verbose: false });
    for (const e of events) view.onEvent(e);
    view.close();
    expect(plain.text()).not.toContain('\x1b');
    expect(plain.text().trim().split('\n')).toHaveLength(5);
    const json = capture(false);
    const quiet = createFleetView(json.io, { json: true, verbose: true });
    for (const e of events) quiet.onEvent(e);
    expect(json.text()).toBe('');
  });
});
