/**
 * The managers pymgr knows, in the default order of `preference` (git-free first). The one list the
 * contract's `ProviderName`, the config schema and the CLI's `--provider` choices are made from:
 * adding a manager means its name here, its folder under providers/ and one registry line.
 */
export const PROVIDER_NAMES = ['uv', 'mise', 'pyenv'] as const;

export type ProviderName = (typeof PROVIDER_NAMES)[number];
