/**
 * The human form of every verb's result. The library returns data; only the CLI turns it into
 * text (JSON mode prints the data itself, through printJson). Credentials in URLs are redacted
 * here as there (an index URL's password must not reach a terminal or a CI log).
 */
import { describeSelection } from '../core/selection.js';
import { redact } from '../redact.js';
import type { DetectResult, DoctorReport, EnvReport, ShownConfig } from '../types.js';

export function renderDetect(d: DetectResult): string {
  return redact(
    `project:  ${d.projectDir}\ntype:     ${d.projectType}${describeSelection(d.plan.steps)}\npython:   ${d.python.request} (from ${d.python.sourcePath ?? d.python.source})\nprovider: ${d.provider.name} (${d.provider.reason})\nvenv:     ${d.venv}\n` +
    // The provider's reason is on the provider line already.
    `reasons:\n${d.reasons.filter((r) => r.rule !== 'provider').map((r) => `  - ${r.message}${r.file ? ` [${r.file}]` : ''}`).join('\n')}\n`
  );
}

/** What is set and where (every key with `all`, defaults included). */
export function renderConfig(shown: ShownConfig, options: { all?: boolean } = {}): string {
  let out = `config file: ${shown.file ?? '(none found)'}\n`;
  const rows = options.all ? shown.values : shown.values.filter((row) => row.source !== 'default');
  for (const row of rows) out += `${row.key} = ${JSON.stringify(row.value)}  (${row.source}${row.where ? `: ${row.where}` : ''})\n`;
  if (!options.all) out += rows.length ? '(every other key has its default: pymgr config --all lists them)\n' : 'nothing is set: every key has its default (pymgr config --all lists them)\n';
  return redact(out);
}

export function renderEnv(env: EnvReport): string {
  let out = `venv:     ${env.path}\nstate:    ${env.state}${env.detail ? ` (${env.detail})` : ''}\n`;
  if (env.python) out += `python:   ${env.python.version} (${env.python.executable})\n`;
  if (env.provider) out += `provider: ${env.provider.name}${env.provider.version ? ` ${env.provider.version}` : ''}\n`;
  return redact(out);
}

/** The human form of a report. */
export function renderDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  lines.push(`pymgr doctor: ${report.projectDir}`);
  if ('error' in report.project) lines.push(`  project: none detected (${report.project.error}); reporting managers only`);
  else {
    lines.push(`  project: ${report.project.type}, Python ${report.project.python} (from ${report.project.pythonSource})`);
    if (report.project.provider) lines.push(`  manager: ${report.project.provider.name} (${report.project.provider.reason})`);
  }
  if (report.venv) lines.push(`  venv: ${report.venv.path}: ${report.venv.state}${report.venv.detail ? ` (${report.venv.detail})` : ''}`);
  if (report.engine) lines.push(`  engine: ${report.engine.address} (chosen by ${report.engine.chosenBy}), ${report.engine.container}`);
  lines.push('');
  lines.push('Managers:');
  for (const m of report.managers) {
    const where = m.path ? ` at ${m.path}` : '';
    const status = m.found ? `found${where}${m.version ? `, version ${m.version}` : ''}${m.source ? ` (via ${m.source})` : ''}` : `not found${where}`;
    lines.push(`  ${m.name}: ${status}; ${m.needsGit ? 'needs git now' : 'no git needed'}`);
  }
  lines.push('');
  if (report.problems.length === 0) lines.push('No problems found.');
  else {
    lines.push(`Problems (${report.problems.length}):`);
    for (const p of report.problems) {
      lines.push(`  [${p.severity}] ${p.code} (${p.subject}): ${p.message}`);
      if (p.fix) lines.push(`      fix: ${p.fix}${p.fixable ? ' (pymgr doctor --fix can do this)' : ''}`);
    }
  }
  if (report.fixed.length) {
    lines.push('');
    lines.push('Fixed:');
    for (const f of report.fixed) lines.push(`  ${f}`);
  }
  lines.push('');
  const warnings = report.problems.filter((p) => p.severity === 'warning').length;
  lines.push(!report.ok ? 'NOT OK: see the errors above' : warnings ? `OK, with ${warnings} warning${warnings > 1 ? 's' : ''} (see above)` : 'OK');
  return redact(lines.join('\n') + '\n');
}
