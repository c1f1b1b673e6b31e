/** Engine selection: the interpreter, or the JIT to WebAssembly. */
import type { Bytecode } from "../isa/bytecode.js";
import type { Engine, EngineEnv } from "./engine.js";
import { Interpreter } from "./interp/interpreter.js";
import { JitEngine, JitLimitError } from "./jit/engine.js";

export type EngineKind = "interp" | "jit";

export function createEngine(kind: EngineKind, code: Bytecode, env: EngineEnv): Engine {
  switch (kind) {
    case "interp":
      return new Interpreter(code, env);
    case "jit":
      try {
        return new JitEngine(code, env);
      } catch (e) {
        // Too big for V8: run it interpreted, as the kernel does when its JIT fails.
        if (e instanceof JitLimitError) return new Interpreter(code, env);
        throw e;
      }
  }
}
