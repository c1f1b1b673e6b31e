// The 313 bpf_conformance files on the interpreter (checked mode, as the
// upstream plugin contract runs them).
import { conformanceSuite } from "./suite.js";

conformanceSuite("interp");
