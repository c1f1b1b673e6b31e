/**
 * Filling the .kconfig map: the value each extern gets from the kernel's
 * configuration, following libbpf (libbpf.c, bpf_object__resolve_externs,
 * bpf_object__process_kconfig_line, set_kcfg_value_*). Pure: the loader reads
 * /proc/config.gz or /boot/config-$(uname -r) and the kernel version itself
 * and passes them in.
 */
import { LoadError } from "../errors.js";
import type { KconfigExtern, KconfigSpec } from "./types.js";

/** libbpf's enum libbpf_tristate (bpf_helpers.h). */
export const TRI_NO = 0;
export const TRI_YES = 1;
export const TRI_MODULE = 2;

export interface KconfigValues {
  /** The kernel's .config text ("CONFIG_X=y" lines). */
  readonly config?: string;
  /** LINUX_KERNEL_VERSION: KERNEL_VERSION(a, b, c) = (a << 16) + (b << 8) + c. */
  readonly kernelVersion?: number;
  /** Feature externs libbpf answers by probing (LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER). */
  readonly features?: Readonly<Record<string, boolean>>;
  /** Byte order of the target (the object's). */
  readonly byteOrder?: "le" | "be";
}

/** The bytes of the .kconfig map's single value. Throws LoadError like libbpf refuses to load. */
export function kconfigData(spec: KconfigSpec, values: KconfigValues): Uint8Array {
  const data = new Uint8Array(spec.size);
  const view = new DataView(data.buffer);
  const le = (values.byteOrder ?? "le") === "le";
  const set = new Set<string>();
  const byName = new Map(spec.externs.map((e) => [e.name, e]));

  const setNum = (e: KconfigExtern, v: bigint, text: string): void => {
    if (e.type !== "int" && e.type !== "char" && e.type !== "bool") {
      throw new LoadError(`extern (kcfg) '${e.name}': value '${text}' implies integer, char, or boolean type`);
    }
    if (e.type === "bool" && v > 1n) throw new LoadError(`extern (kcfg) '${e.name}': value '${text}' isn't boolean compatible`);
    // The value must fit the extern's size, sign-aware (is_kcfg_value_in_range).
    const bits = BigInt(e.size * 8);
    const fits = e.size === 8 || (e.signed ? BigInt.asUintN(64, v + (1n << (bits - 1n))) < 1n << bits : BigInt.asUintN(64, v) >> bits === 0n);
    if (!fits) throw new LoadError(`extern (kcfg) '${e.name}': value '${text}' doesn't fit in ${e.size} bytes`);
    const u = BigInt.asUintN(64, v);
    switch (e.size) {
      case 1: view.setUint8(e.offset, Number(u & 0xffn)); break;
      case 2: view.setUint16(e.offset, Number(u & 0xffffn), le); break;
      case 4: view.setUint32(e.offset, Number(u & 0xffffffffn), le); break;
      case 8: view.setBigUint64(e.offset, u, le); break;
      default: throw new LoadError(`extern (kcfg) '${e.name}': unsupported size ${e.size}`);
    }
    set.add(e.name);
  };

  for (const e of spec.externs) {
    if (e.name === "LINUX_KERNEL_VERSION") {
      if (!values.kernelVersion) throw new LoadError("extern (kcfg) 'LINUX_KERNEL_VERSION': failed to get kernel version");
      setNum(e, BigInt(values.kernelVersion), `0x${values.kernelVersion.toString(16)}`);
    } else if (e.name.startsWith("CONFIG_")) {
      // filled from the config text below
    } else if (values.features && e.name in values.features) {
      setNum(e, values.features[e.name] ? 1n : 0n, String(values.features[e.name]));
    } else {
      throw new LoadError(`unrecognized extern '${e.name}'`);
    }
  }

  for (const raw of (values.config ?? "").split("\n")) {
    const line = raw.trimEnd();
    if (!line.startsWith("CONFIG_")) continue;
    const sep = line.indexOf("=");
    if (sep < 0) throw new LoadError(`failed to parse '${line}': no separator`);
    const name = line.slice(0, sep);
    const value = line.slice(sep + 1);
    if (!value) throw new LoadError(`failed to parse '${line}': no value`);
    const e = byName.get(name);
    if (!e || set.has(name)) continue;
    const c = value[0];
    if (c === "y" || c === "n" || c === "m") {
      if (e.type === "bool") {
        if (c === "m") throw new LoadError(`extern (kcfg) '${name}': value '${c}' implies tristate or char type`);
        view.setUint8(e.offset, c === "y" ? 1 : 0);
      } else if (e.type === "tristate") {
        const tri = c === "y" ? TRI_YES : c === "m" ? TRI_MODULE : TRI_NO;
        if (e.size === 8) view.setBigUint64(e.offset, BigInt(tri), le);
        else view.setUint32(e.offset, tri, le);
      } else if (e.type === "char") {
        view.setUint8(e.offset, c.charCodeAt(0));
      } else {
        throw new LoadError(`extern (kcfg) '${name}': value '${c}' implies bool, tristate, or char type`);
      }
      set.add(name);
    } else if (c === '"') {
      if (e.type !== "char_array") throw new LoadError(`extern (kcfg) '${name}': value '${value}' implies char array type`);
      if (value.length < 2 || value[value.length - 1] !== '"') throw new LoadError(`extern (kcfg) '${name}': invalid string config '${value}'`);
      // Longer strings are cut to fit, keeping the terminating NUL (libbpf warns and truncates).
      const str = new TextEncoder().encode(value.slice(1, -1)).subarray(0, e.size - 1);
      data.set(str, e.offset);
      data[e.offset + str.length] = 0;
      set.add(name);
    } else {
      let v: bigint;
      try {
        // strtoull(value, 0): decimal, 0x hex or 0 octal; a leading '-' wraps around.
        const neg = value.startsWith("-");
        const body = neg ? value.slice(1) : value;
        const parsed = /^0[0-7]+$/.test(body) ? BigInt("0o" + body.slice(1)) : BigInt(body);
        v = neg ? BigInt.asUintN(64, -parsed) : parsed;
      } catch {
        throw new LoadError(`extern (kcfg) '${name}': value '${value}' isn't a valid integer`);
      }
      if (e.type !== "int" && e.type !== "char") throw new LoadError(`extern (kcfg) '${name}': value '${value}' implies integer type`);
      setNum(e, e.signed ? BigInt.asIntN(64, v) : v, value);
    }
  }

  for (const e of spec.externs) {
    // Weak externs the kernel does not have stay zero; strong ones are an error.
    if (!set.has(e.name) && !e.weak) throw new LoadError(`extern ${e.name} (strong) not resolved`);
  }
  return data;
}
