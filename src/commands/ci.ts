// Zero-config GitHub Actions, as vitest does it: the runner sets
// GITHUB_ACTIONS=true, and a run with the default table format then also
// prints an `::error` / `::warning` workflow-command annotation per failing or
// warning check (`::notice` for blocked ones and passes after --wait retries),
// after the table, and appends the Markdown summary to $GITHUB_STEP_SUMMARY
// (src/commands/outputs.ts). `--no-ci-annotations` turns both off. With
// `--format github` the annotations already are the output, and an
// `--output markdown=$GITHUB_STEP_SUMMARY` already writes the summary: neither
// is written twice. Annotations go through the same redaction and
// neutralisation as every other format (renderLoaded).

/** Whether this run adds GitHub Actions annotations and the step summary by itself. */
export function githubZeroConfig(flags: { format: string; ciAnnotations?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === "true" && flags.format === "table" && flags.ciAnnotations !== false;
}
