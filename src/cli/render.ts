/**
 * The human form of every verb's result. The library returns data; only the CLI turns it into
 * text (JSON mode prints the data itself, through printJson).
 */
import { describeSelection } from '../core/selection.js';
import type { DetectResult, DoctorReport, EnvReport, ShownConfig } from '../types.js';

export function renderDetect(d: DetectResult): string {
  return (
    `project:  ${d.projectDir}\ntype:     ${d.projectType}${describeSelection(d.plan.steps)}\npython:   ${d.python.request} (from ${d.python.sourcePath ?? d.python.source})\nprovider: ${d.provider.name} (${d.provider.reason})\nvenv:     ${d.venv}\n` +
    `reasons:\n${d.reasons.map((r) => `  - ${r.message}${r.file ? ` [${r.file}]` : ''}`).join('\n')}\n`
  );
}

export function renderConfig(shown: ShownConfig): string {
  let out = `config file: ${shown.file ?? '(none found)'}\n`;
  for (const row of shown.values) out += `${row.key} = ${JSON.stringify(row.value)}  (${row.source}${row.where ? `: ${row.where}` : ''})\n`;
  return out;
}

export function renderEnv(env: EnvReport): string {
  let out = `venv:     ${env.path}\nstate:    ${env.state}${env.detail ? ` (${env.detail})` : ''}\n`;
  if (env.python) out += `python:   ${env.python.version} (${env.python.executable})\n`;
  if (env.provider) out += `provider: ${env.provider.name}${env.provider.version ? ` ${env.provider.version}` : ''}\n`;
  return out;
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
  lines.push(report.ok ? 'OK' : 'NOT OK: see the errors above');
  return lines.join('\n') + '\n';
}
