/** A problem with the user's input (config file or flags): exit 2, nothing probed. */
export class ConfigError extends Error {
  readonly file?: string;
  readonly keyPath?: string;
  constructor(message: string, options: { file?: string; keyPath?: string } = {}) {
    const where = [options.file, options.keyPath].filter(Boolean).join(": ");
    super(where ? `${where}: ${message}` : message);
    this.name = "ConfigError";
    this.file = options.file;
    this.keyPath = options.keyPath;
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
