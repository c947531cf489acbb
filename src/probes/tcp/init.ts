// What the tcp kind contributes to `infra-check init --kinds tcp`: a starter check.
import type { KindInit } from "../init-api.js";

const init: KindInit = {
  starter: {
    name: "port",
    yaml: `    # TCP (and TLS) reachability, a banner, the certificate's expiry.
    address: 10.0.0.5:5672
`,
  },
};

export default init;
