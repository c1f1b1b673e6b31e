/** The tsbpf command: dispatches `tsbpf [OPTIONS] WORDS... [ARGS]` to a command. */
import { readFileSync } from "node:fs";
import { TsbpfError } from "../errors.js";
import { type Command, type GlobalOptions, type Io, UsageError } from "./command.js";
import { commands } from "./commands/index.js";

function splitGlobalOptions(argv: string[]): { options: GlobalOptions; rest: string[] } {
  let json = false;
  let pretty = false;
  let debug = false;
  let backend: "vm" | "linux" = "vm";
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-j" || a === "--json") json = true;
    else if (a === "-p" || a === "--pretty") json = pretty = true;
    else if (a === "-d" || a === "--debug") debug = true;
    else if (a === "--backend" || a.startsWith("--backend=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (v !== "vm" && v !== "linux") throw new UsageError(`--backend takes vm or linux, not '${v ?? ""}'`);
      backend = v;
    } else rest.push(a);
  }
  return { options: { json, pretty, debug, backend }, rest };
}

/** The command whose words are the longest prefix of `words`. */
export function findCommand(words: readonly string[]): { command: Command; args: string[] } | undefined {
  let best: Command | undefined;
  for (const c of commands) {
    if (c.words.length <= words.length && c.words.every((w, i) => w === words[i])) {
      if (!best || c.words.length > best.words.length) best = c;
    }
  }
  return best ? { command: best, args: words.slice(best.words.length) } : undefined;
}

function usage(io: Io): void {
  io.out("Usage: tsbpf [-j|-p] [-d] [--backend vm|linux] COMMAND [ARGS]\n\nCommands:\n");
  for (const c of commands) io.out(`  ${c.usage}\n`);
}

export async function main(argv: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = splitGlobalOptions(argv);
  } catch (e) {
    io.err(`tsbpf: ${(e as Error).message}\n`);
    return 2;
  }
  const { options, rest } = parsed;
  if (rest.length === 0 || rest[0] === "help" || rest[0] === "--help" || rest[0] === "-h") {
    usage(io);
    return rest.length === 0 ? 2 : 0;
  }
  if (rest[0] === "--version" || rest[0] === "version") {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    io.out(`tsbpf v${pkg.version}\n`);
    return 0;
  }
  const found = findCommand(rest);
  if (!found) {
    io.err(`tsbpf: unknown command '${rest.join(" ")}' (try 'tsbpf help')\n`);
    return 2;
  }
  try {
    return await found.command.run(found.args, options, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`tsbpf: ${e.message}\nusage: ${found.command.usage}\n`);
      return 2;
    }
    if (e instanceof TsbpfError || (e instanceof Error && "code" in e && typeof (e as NodeJS.ErrnoException).code === "string")) {
      io.err(`tsbpf: ${e.message}\n`);
      if (options.debug && e instanceof Error) io.err(`${e.stack ?? ""}\n`);
      return 1;
    }
    throw e;
  }
}

