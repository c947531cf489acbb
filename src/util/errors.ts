/** Where in a file a problem is: 1-based, as editors count. */
export interface SourceLocation {
  line: number;
  column: number;
  /** The offending line with a caret under what is wrong, already free of secrets. */
  frame?: string[];
}

export interface ConfigErrorOptions {
  file?: string;
  keyPath?: string;
  /** An unknown key under `keyPath`: the error points at it rather than at its parent. */
  key?: string;
  location?: SourceLocation;
}

/** A problem with the user's input (config file or flags): exit 2, nothing probed. */
export class ConfigError extends Error {
  readonly file?: string;
  readonly keyPath?: string;
  readonly key?: string;
  /** What is wrong, without the file and key path (the `message` of `validate -f json`). */
  readonly detail: string;
  readonly location?: SourceLocation;
  constructor(detail: string, options: ConfigErrorOptions = {}) {
    // Without a key path (a YAML syntax error, an unknown top-level key) the line is the best address there is.
    const place = options.keyPath ?? (options.location ? `line ${options.location.line}, column ${options.location.column}` : undefined);
    const where = [options.file, place].filter(Boolean).join(": ");
    super(where ? `${where}: ${detail}` : detail);
    this.name = "ConfigError";
    this.file = options.file;
    this.keyPath = options.keyPath;
    this.key = options.key;
    this.detail = detail;
    this.location = options.location;
  }

  /** The same problem, placed in its file. */
  at(location: SourceLocation | undefined): ConfigError {
    if (!location) return this;
    return new ConfigError(this.detail, { file: this.file, keyPath: this.keyPath, key: this.key, location });
  }
}

/** Several config problems reported at once, so the user fixes them in one go. */
export class ConfigErrors extends Error {
  readonly errors: ConfigError[];
  constructor(errors: ConfigError[]) {
    super(errors.map((error) => error.message).join("\n"));
    this.name = "ConfigErrors";
    this.errors = errors;
  }
}

export function isConfigError(error: unknown): error is ConfigError | ConfigErrors {
  const name = (error as Error | undefined)?.name;
  return name === "ConfigError" || name === "ConfigErrors";
}

/** The individual problems of a ConfigError or ConfigErrors. */
export function configProblems(error: ConfigError | ConfigErrors): ConfigError[] {
  const errors = (error as Partial<ConfigErrors>).errors;
  return Array.isArray(errors) ? errors : [error as ConfigError];
}

/**
 * A problem as the terminal shows it: one headline (`file: key.path: what`,
 * prefixed like every line of ours), then, when the file position is known,
 * `--> file:line:column` (what editors and terminals open) and the line with a
 * caret, as cargo and rustc do.
 */
export function renderProblem(problem: ConfigError, prefix: string): string {
  const lines = [`${prefix}${problem.message}`];
  const location = problem.location;
  if (location) {
    lines.push(`  --> ${problem.file ? `${problem.file}:${location.line}:${location.column}` : `line ${location.line}, column ${location.column}`}`);
    if (location.frame) lines.push(...location.frame);
  }
  return lines.join("\n") + "\n";
}

/** Every problem of an error, framed ones separated by a blank line so each frame reads as one block. */
export function renderProblems(problems: ConfigError[], prefix: string): string {
  return problems.map((problem, index) => (index > 0 && problem.location?.frame ? "\n" : "") + renderProblem(problem, prefix)).join("");
}
