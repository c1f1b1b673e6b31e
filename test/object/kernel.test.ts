/**
 * Differential tests against libbpf and the kernel: bpftool (libbpf) loads a
 * fixture, and the maps the kernel created and the BTF it holds must be what
 * our spec says. Skipped, saying why, without root, bpftool or bpffs.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { formatBtfRaw } from "../../src/btf/dump-raw.js";
import { objectSpecFromFile } from "../../src/object/node.js";
import { BPF_F_MMAPABLE, mapTypeName, progTypeName } from "../../src/object/uapi.js";
import { bpftoolLoadUnavailableReason } from "../helpers/kernel.js";

const why = bpftoolLoadUnavailableReason();

interface ProgInfo { type: string; name: string; map_ids?: number[]; btf_id?: number; gpl_compatible: boolean }
interface MapInfo { type: string; name: string; flags: number; bytes_key: number; bytes_value: number; max_entries: number; frozen?: number }

const json = <T>(...args: string[]): T => JSON.parse(execFileSync("bpftool", ["-j", ...args], { encoding: "utf8" })) as T;

describe.skipIf(why !== null)(`objects loaded by libbpf into the kernel match their specs${why ? ` (skipped: ${why})` : ""}`, () => {
  test.each(["maps.bpf.o", "subprogs.bpf.o"])("%s: programs, maps and BTF", async (file) => {
    const path = new URL(`../fixtures/object/${file}`, import.meta.url).pathname;
    const spec = await objectSpecFromFile(path);
    const pinnedByName = [...spec.maps.values()].filter((m) => m.pinning).map((m) => `/sys/fs/bpf/${m.name}`);
    for (const p of pinnedByName) expect(existsSync(p), `${p} would be reused`).toBe(false);
    const dir = mkdtempSync("/sys/fs/bpf/tsbpf-obj-");
    try {
      const r = spawnSync("bpftool", ["prog", "loadall", path, `${dir}/p`], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      const mapsSeen = new Map<string, MapInfo>();
      let btfId: number | undefined;
      for (const p of spec.programs.values()) {
        const info = json<ProgInfo>("prog", "show", "pinned", `${dir}/p/${p.name}`);
        expect(info.type).toBe(progTypeName(p.type));
        expect(info.name).toBe(p.name.slice(0, 15));
        expect(info.gpl_compatible).toBe(true);
        btfId = info.btf_id;
        for (const id of info.map_ids ?? []) {
          const m = json<MapInfo>("map", "show", "id", String(id));
          mapsSeen.set(m.name, m);
        }
      }
      for (const m of spec.maps.values()) {
        const k = mapsSeen.get(m.kernelName);
        // Maps no program refers to (inner map templates, unused .rodata) have no id to look up here.
        if (!k) continue;
        // libbpf before 1.2 made every internal map mmap()able; later ones (and we) only those with visible variables.
        const flags = (f: number): number => (m.source === "btf" ? f : f & ~BPF_F_MMAPABLE);
        expect({ type: k.type, flags: flags(k.flags), key: k.bytes_key, value: k.bytes_value, max: k.max_entries })
          .toEqual({ type: mapTypeName(m.type), flags: flags(m.flags), key: m.keySize, value: m.valueSize, max: m.maxEntries });
        if (m.freeze) expect(k.frozen).toBe(1);
      }
      expect(mapsSeen.size).toBeGreaterThan(0);
      // The BTF libbpf uploaded: the object's, with the open-time fix-ups.
      expect(btfId).toBeDefined();
      const kernelBtf = execFileSync("bpftool", ["btf", "dump", "id", String(btfId)], { encoding: "utf8" });
      expect(kernelBtf).toBe(formatBtfRaw(spec.btf ?? (() => { throw new Error("no BTF"); })()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      for (const p of pinnedByName) rmSync(p, { force: true });
    }
  });
});
