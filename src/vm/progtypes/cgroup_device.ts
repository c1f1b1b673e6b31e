/**
 * BPF_PROG_TYPE_CGROUP_DEVICE. kernel/bpf/cgroup.c: cgroup_dev_is_valid_access
 * (read-only; access_type narrow, major and minor u32 only),
 * cgroup_dev_func_proto (cgroup_common_func_proto, perf_event_output, then
 * bpf_base_func_proto). Returns 0 or 1.
 */
import { accessRows } from "./access.js";
import { BPF_CGROUP_DEVICE, BPF_PROG_TYPE_CGROUP_DEVICE } from "./constants.js";
import { bpfCgroupDevCtx } from "./ctx/bpf_cgroup_dev_ctx.js";
import { defineProgType, zeroOrOne } from "./define.js";
import { BASE_FUNCS, CGROUP_COMMON, helperSet } from "./funcs.js";

const rows = accessRows(bpfCgroupDevCtx, { access_type: { read: "narrow" }, major: { read: "exact" }, minor: { read: "exact" } });
const helpers = helperSet(BASE_FUNCS, [25, ...CGROUP_COMMON]);

export const cgroupDevice = defineProgType({
  id: BPF_PROG_TYPE_CGROUP_DEVICE,
  name: "cgroup_device",
  uapiName: "BPF_PROG_TYPE_CGROUP_DEVICE",
  ctxStruct: "bpf_cgroup_dev_ctx",
  ctxSize: bpfCgroupDevCtx.size,
  ctxLayout: bpfCgroupDevCtx,
  attachTypes: [BPF_CGROUP_DEVICE],
  access: () => rows,
  helpers: () => helpers,
  returnRange: zeroOrOne,
  packetAccess: { read: false, write: false },
});
