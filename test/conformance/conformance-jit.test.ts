// The same 313 bpf_conformance files, run on the JIT (checked mode, as the
// upstream plugin contract runs them).
import { conformanceSuite } from "./suite.js";

conformanceSuite("jit");
