/**
 * Prints a module the JIT emitted as WebAssembly text (the flat, unfolded form
 * of the Core spec §6), for `tsbpf prog dump jited`. It reads the binary back,
 * so what it shows is exactly what V8 compiles; given the program's PcMap it
 * marks where each BPF instruction's code starts (`;; insn 12`).
 *
 * It understands the subset of the binary format codegen.ts writes.
 */
import { AtomicOp, MiscOp, Op } from "./wasm.js";
import type { PcMap } from "./codegen.js";

const VALTYPE: Record<number, string> = { 0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64" };

/** Opcode byte -> text name, from the Op table (i64_load8_u -> i64.load8_u, local_get -> local.get). */
const NAMES = new Map<number, string>();
for (const [key, value] of Object.entries(Op)) {
  if (key === "atomic_prefix" || key === "misc_prefix") continue;
  const name = /^(i32|i64|local|global)_/.test(key) ? key.replace("_", ".") : key;
  NAMES.set(value, name);
}

const ATOMIC_NAMES = new Map<number, string>([
  [AtomicOp.i64_load, "i64.atomic.load"], [AtomicOp.i64_load8_u, "i64.atomic.load8_u"],
  [AtomicOp.i64_load16_u, "i64.atomic.load16_u"], [AtomicOp.i64_load32_u, "i64.atomic.load32_u"],
  [AtomicOp.i64_store, "i64.atomic.store"], [AtomicOp.i64_store8, "i64.atomic.store8"],
  [AtomicOp.i64_store16, "i64.atomic.store16"], [AtomicOp.i64_store32, "i64.atomic.store32"],
]);
for (const [op, base] of [["add", AtomicOp.rmw_add], ["sub", AtomicOp.rmw_sub], ["and", AtomicOp.rmw_and], ["or", AtomicOp.rmw_or],
  ["xor", AtomicOp.rmw_xor], ["xchg", AtomicOp.rmw_xchg], ["cmpxchg", AtomicOp.rmw_cmpxchg]] as const) {
  const forms = [`i32.atomic.rmw.${op}`, `i64.atomic.rmw.${op}`, `i32.atomic.rmw8.${op}_u`, `i32.atomic.rmw16.${op}_u`,
    `i64.atomic.rmw8.${op}_u`, `i64.atomic.rmw16.${op}_u`, `i64.atomic.rmw32.${op}_u`];
  forms.forEach((f, i) => ATOMIC_NAMES.set(base + i, f));
}

/** Memory instructions carry a memarg; these opcodes are 0x28..0x3e. */
const isMemOp = (o: number): boolean => o >= 0x28 && o <= 0x3e;

class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.b.length) throw new Error("wat: unexpected end of module");
    return this.b[this.pos++];
  }
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const x = this.byte();
      result += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) return result;
      shift += 7;
    }
  }
  /** Signed LEB128 up to 64 bits, as a decimal string (display only). */
  sleb(): string {
    let result = 0n;
    let shift = 0n;
    let x: number;
    do {
      x = this.byte();
      result |= BigInt(x & 0x7f) << shift;
      shift += 7n;
    } while (x & 0x80);
    if (x & 0x40) result -= 1n << shift;
    return result.toString();
  }
  name(): string {
    const n = this.u32();
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.byte());
    return s;
  }
}

interface FuncSig {
  params: string[];
  results: string[];
}

/** The module as text. `pcMap` (from the compiled program) adds `;; insn N` marks. */
export function printWat(bytes: Uint8Array, options: { pcMap?: PcMap } = {}): string {
  const r = new Reader(bytes);
  if (r.u32() !== 0x6d736100 && bytes[0] !== 0) throw new Error("wat: not a WebAssembly module");
  r.pos = 8;
  const types: FuncSig[] = [];
  const funcTypes: number[] = [];
  const funcNames = new Map<number, string>();
  const lines: string[] = [];
  const header: string[] = [];
  let importedFuncs = 0;
  let importedGlobals = 0;
  const bodies: Array<{ start: number; end: number }> = [];
  const sig = (t: FuncSig): string =>
    `${t.params.length ? ` (param ${t.params.join(" ")})` : ""}${t.results.length ? ` (result ${t.results.join(" ")})` : ""}`;
  const fname = (i: number): string => `$${funcNames.get(i) ?? `f${i}`}`;

  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.u32();
    const end = r.pos + size;
    switch (id) {
      case 0: {
        const name = r.name();
        if (name === "name") {
          while (r.pos < end) {
            const sub = r.byte();
            const len = r.u32();
            const subEnd = r.pos + len;
            if (sub === 1) {
              const n = r.u32();
              for (let i = 0; i < n; i++) {
                const idx = r.u32();
                funcNames.set(idx, r.name());
              }
            }
            r.pos = subEnd;
          }
        }
        break;
      }
      case 1: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          r.byte(); // 0x60
          const params = Array.from({ length: r.u32() }, () => VALTYPE[r.byte()]);
          const results = Array.from({ length: r.u32() }, () => VALTYPE[r.byte()]);
          types.push({ params, results });
        }
        break;
      }
      case 2: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const mod = r.name();
          const name = r.name();
          const kind = r.byte();
          if (kind === 0) {
            const t = r.u32();
            funcTypes.push(t);
            header.push(`  (import "${mod}" "${name}" (func (;${importedFuncs};) (type ${t})))`);
            importedFuncs++;
          } else if (kind === 2) {
            const flags = r.byte();
            const min = r.u32();
            const max = flags & 1 ? ` ${r.u32()}` : "";
            header.push(`  (import "${mod}" "${name}" (memory ${min}${max}${flags & 2 ? " shared" : ""}))`);
          } else if (kind === 3) {
            const t = VALTYPE[r.byte()];
            const mut = r.byte();
            header.push(`  (import "${mod}" "${name}" (global (;${importedGlobals};) ${mut ? `(mut ${t})` : t}))`);
            importedGlobals++;
          } else throw new Error(`wat: import kind ${kind}`);
        }
        break;
      }
      case 3: {
        const n = r.u32();
        for (let i = 0; i < n; i++) funcTypes.push(r.u32());
        break;
      }
      case 6: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const t = VALTYPE[r.byte()];
          const mut = r.byte();
          const op = r.byte();
          const v = r.sleb();
          r.byte(); // end
          header.push(`  (global (;${importedGlobals + i};) ${mut ? `(mut ${t})` : t} (${NAMES.get(op)} ${v}))`);
        }
        break;
      }
      case 7: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const name = r.name();
          const kind = r.byte();
          const idx = r.u32();
          header.push(`  (export "${name}" (${kind === 0 ? "func" : kind === 3 ? "global" : "memory"} ${kind === 0 ? fname(idx) : idx}))`);
        }
        break;
      }
      case 10: {
        const n = r.u32();
        for (let i = 0; i < n; i++) {
          const sz = r.u32();
          bodies.push({ start: r.pos, end: r.pos + sz });
          r.pos += sz;
        }
        break;
      }
      default:
        break;
    }
    r.pos = end;
  }

  lines.push("(module");
  types.forEach((t, i) => lines.push(`  (type (;${i};) (func${sig(t)}))`));
  lines.push(...header);
  bodies.forEach((b, i) => {
    const index = importedFuncs + i;
    const t = types[funcTypes[index]];
    r.pos = b.start;
    const locals: string[] = [];
    const runs = r.u32();
    for (let k = 0; k < runs; k++) {
      const count = r.u32();
      const vt = VALTYPE[r.byte()];
      for (let j = 0; j < count; j++) locals.push(vt);
    }
    lines.push(`  (func ${fname(index)} (;${index};) (type ${funcTypes[index]})${sig(t)}`);
    if (locals.length) lines.push(`    (local ${locals.join(" ")})`);
    printBody(r, b.end, index, lines, fname, options.pcMap);
    lines.push("  )");
  });
  lines.push(")");
  return lines.join("\n") + "\n";
}

function printBody(
  r: Reader, end: number, funcIndex: number, lines: string[], fname: (i: number) => string, pcMap?: PcMap,
): void {
  let depth = 2;
  let lastPc: number | undefined;
  const pad = (): string => "  ".repeat(depth);
  while (r.pos < end) {
    if (pcMap) {
      const pc = pcMap.lookup(funcIndex, r.pos);
      if (pc !== undefined && pc !== lastPc) {
        lines.push(`${pad()};; insn ${pc}`);
        lastPc = pc;
      }
    }
    const o = r.byte();
    if (o === Op.end) {
      depth--;
      if (r.pos < end) lines.push(`${pad()}end`);
      continue;
    }
    if (o === Op.else) {
      lines.push(`${"  ".repeat(depth - 1)}else`);
      continue;
    }
    if (o === Op.block || o === Op.loop || o === Op.if) {
      const bt = r.byte();
      lines.push(`${pad()}${NAMES.get(o)}${bt === 0x40 ? "" : ` (result ${VALTYPE[bt]})`}`);
      depth++;
      continue;
    }
    if (o === Op.misc_prefix) {
      const sub = r.u32();
      lines.push(`${pad()}${sub === MiscOp.i64_trunc_sat_f64_s ? "i64.trunc_sat_f64_s" : `misc.0x${sub.toString(16)}`}`);
      continue;
    }
    if (o === Op.atomic_prefix) {
      const sub = r.u32();
      const align = r.u32();
      const offset = r.u32();
      lines.push(`${pad()}${ATOMIC_NAMES.get(sub) ?? `atomic.0x${sub.toString(16)}`}${offset ? ` offset=${offset}` : ""} align=${2 ** align}`);
      continue;
    }
    const name = NAMES.get(o) ?? `0x${o.toString(16)}`;
    let text: string;
    if (o === Op.br || o === Op.br_if || o === Op.local_get || o === Op.local_set || o === Op.local_tee ||
      o === Op.global_get || o === Op.global_set) {
      text = `${name} ${r.u32()}`;
    } else if (o === Op.call) {
      text = `${name} ${fname(r.u32())}`;
    } else if (o === Op.br_table) {
      const n = r.u32();
      const targets = Array.from({ length: n + 1 }, () => r.u32());
      text = `${name} ${targets.join(" ")}`;
    } else if (o === Op.i32_const || o === Op.i64_const) {
      text = `${name} ${r.sleb()}`;
    } else if (isMemOp(o)) {
      const align = r.u32();
      const offset = r.u32();
      text = `${name}${offset ? ` offset=${offset}` : ""} align=${2 ** align}`;
    } else text = name;
    lines.push(pad() + text);
  }
}
