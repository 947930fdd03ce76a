import { describe, expect, it } from 'vitest';
import type { ProviderName } from '../../src/contracts.js';
import type { ProjectDetection, ProjectType } from '../../src/detect/detect-project.js';
import { selectProvider } from '../../providers/index.js';
import { config } from './detect-helpers.js';

function detection(projectType: ProjectType, hasMiseConfig = false): ProjectDetection {
  return {
    projectDir: '/p',
    projectType,
    files: { ryeLocks: [], requirements: [], constraints: [], ...(hasMiseConfig ? { miseToml: '/p/mise.toml' } : {}) },
    hasMiseConfig,
    python: { raw: '3', request: '3', source: 'default' },
    plan: { steps: [], expected: [], index: { extraUrls: [], findLinks: [], offline: false, noIndex: false } },
    reasons: [],
  };
}

const available = (...names: ProviderName[]) => async (name: ProviderName) => names.includes(name);

describe('selectProvider', () => {
  it('an explicit provider in the configuration wins, available or not', async () => {
    const choice = await selectProvider(detection('uv', true), config({ provider: 'pyenv' }), available());
    expect(choice).toMatchObject({ name: 'pyenv', source: 'config' });
  });

  it('uv and rye projects choose uv when it is available', async () => {
    expect(await selectProvider(detection('uv'), config({ preference: ['pyenv', 'uv'] }), available('pyenv', 'uv'))).toMatchObject({ name: 'uv', source: 'project' });
    expect(await selectProvider(detection('rye'), config({ preference: ['mise', 'uv'] }), available('mise', 'uv'))).toMatchObject({ name: 'uv', source: 'project' });
  });

  it('the project type comes before mise configuration', async () => {
    expect(await selectProvider(detection('uv', true), config(), available('uv', 'mise'))).toMatchObject({ name: 'uv', source: 'project' });
  });

  it('a project with mise configuration chooses mise', async () => {
    const choice = await selectProvider(detection('requirements', true), config(), available('uv', 'mise', 'pyenv'));
    expect(choice).toMatchObject({ name: 'mise', source: 'project' });
    expect(choice.reason).toContain('/p/mise.toml');
  });

  it('falls back to preference when the suggested manager is missing, saying so', async () => {
    const choice = await selectProvider(detection('requirements', true), config(), available('pyenv'));
    expect(choice).toMatchObject({ name: 'pyenv', source: 'preference' });
    expect(choice.reason).toContain('mise, which was not found');
  });

  it('a suggestion outside preference is not taken', async () => {
    const choice = await selectProvider(detection('requirements', true), config({ preference: ['pyenv', 'uv'] }), available('mise', 'uv', 'pyenv'));
    expect(choice).toMatchObject({ name: 'pyenv', source: 'preference' });
    expect(choice.reason).toContain('not in preference');
  });

  it('otherwise the first available in preference order', async () => {
    expect(await selectProvider(detection('pyproject'), config(), available('mise', 'pyenv'))).toMatchObject({ name: 'mise', source: 'preference' });
    expect(await selectProvider(detection('pyproject'), config({ preference: ['pyenv', 'mise'] }), available('mise', 'pyenv'))).toMatchObject({ name: 'pyenv' });
  });

  it('none available: the first in preference, to be provisioned', async () => {
    const choice = await selectProvider(detection('setuptools'), config({ preference: ['pyenv', 'uv'] }), available());
    expect(choice).toMatchObject({ name: 'pyenv', source: 'preference' });
    expect(choice.reason).toContain('none of [pyenv, uv] was found');
  });
});
