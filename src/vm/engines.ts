/** Engine selection: the interpreter, or the JIT to WebAssembly. */
import type { Bytecode } from "../isa/bytecode.js";
import { NotSupportedError } from "../errors.js";
import type { Engine, EngineEnv } from "./engine.js";
import { Interpreter } from "./interp/interpreter.js";

export type EngineKind = "interp" | "jit";

export function createEngine(kind: EngineKind, code: Bytecode, env: EngineEnv): Engine {
  switch (kind) {
    case "interp":
      return new Interpreter(code, env);
    case "jit":
      throw new NotSupportedError("jit engine");
  }
}
