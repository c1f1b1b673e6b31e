/**
 * The CLI's command contract. bpftool's grammar: `tsbpf [OPTIONS] OBJECT COMMAND
 * [ARGS]`, with keyword arguments (`file OBJ`, `program NAME`) rather than flags
 * where bpftool uses them. Global options may appear anywhere on the line.
 */

export interface GlobalOptions {
  /** -j / --json: machine-readable output. */
  readonly json: boolean;
  /** -p / --pretty: indented JSON (implies --json). */
  readonly pretty: boolean;
  /** -d / --debug: more detail (verifier logs, stack traces). */
  readonly debug: boolean;
  /** --backend vm|linux (default vm). */
  readonly backend: "vm" | "linux";
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Reads all of standard input (for `plugin`). */
  readStdin(): Promise<string>;
}

export interface Command {
  /** The words that select the command, e.g. ["prog", "dump", "xlated"]. */
  readonly words: readonly string[];
  /** One line of usage, shown by `tsbpf help`. */
  readonly usage: string;
  /** Runs with the words after the command's own; returns the exit code. */
  run(args: string[], options: GlobalOptions, io: Io): Promise<number>;
}

/** A usage error: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {}

/** Prints a JSON value the way -j / -p ask. */
export function printJson(io: Io, options: GlobalOptions, value: unknown): void {
  io.out(JSON.stringify(value, (_k, v) => (typeof v === "bigint" ? Number(v) : v), options.pretty ? 2 : undefined) + "\n");
}

/**
 * Parses bpftool-style keyword arguments: `file X program Y repeat 3`. `keywords`
 * lists the accepted keywords; positional words (not keywords) are returned in
 * order. Flags (starting with '-') are returned separately with their values when
 * listed in `flagsWithValue`.
 */
export function parseKeywords(
  args: readonly string[],
  keywords: readonly string[],
  flagsWithValue: readonly string[] = [],
): { kw: Map<string, string>; positional: string[]; flags: Map<string, string | true> } {
  const kw = new Map<string, string>();
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith("-") && a.length > 1) {
      const eq = a.indexOf("=");
      if (eq > 0) flags.set(a.slice(0, eq), a.slice(eq + 1));
      else if (flagsWithValue.includes(a)) {
        if (i + 1 >= args.length) throw new UsageError(`${a} needs a value`);
        flags.set(a, args[++i]);
      } else flags.set(a, true);
    } else if (keywords.includes(a)) {
      if (i + 1 >= args.length) throw new UsageError(`'${a}' needs a value`);
      kw.set(a, args[++i]);
    } else positional.push(a);
  }
  return { kw, positional, flags };
}
