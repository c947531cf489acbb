// The metrics every kind that speaks TLS reports about the server's
// certificate (src/net/tls.ts reads them at the handshake), so
// `expect: { certExpiresInDays: "> 14" }` works on any TLS check.
import type { MetricTable } from "../api.js";

export const CERTIFICATE_METRICS: MetricTable = {
  tlsMs: { unit: "ms", class: "slow", description: "TLS handshake" },
  certExpiresInDays: { unit: "days", class: "tls", description: "days until the server certificate expires (negative: expired)" },
  certNotAfter: { class: "tls", description: "when the server certificate expires (ISO 8601)" },
  certSubject: { class: "tls", description: "the certificate's subject common name" },
  certNames: { class: "tls", description: "the certificate's subject alternative names" },
  certIssuer: { class: "tls", description: "the issuer's common name (or organisation)" },
};
