// Judging a Cloud Run service from what was measured (pure): where the
// rollout stands (the default expectation rollout == SERVING, worded in the
// API's own terms), who gets the traffic, and whether the serving revision
// runs the expected image, connector and env. An old revision serving
// explains every drift after it, so traffic comes first.
import { defineCatalogue, explanationOf } from "../../diagnose/catalogue.js";
import type { Assertion, Expectation, MetricValue } from "../../diagnose/vocabulary.js";
import { parseExpectation } from "../../evaluate/expectations.js";
import { regionOf, sameResource, shortName } from "../../gcp/resources.js";
import type { Explained, Measurement } from "../api.js";
import type { CloudRunSpec } from "./config.js";
import { imageMatches, parseImage, sameCommit, shortDigest } from "./image.js";

interface RolloutFacts {
  name: string;
  region: string;
  generation: MetricValue;
  observedGeneration: MetricValue;
  condition: string;
  latestReady: string;
  latestCreated: string;
  newest?: string;
  /** Every non-succeeded condition of the newest revision and of the service (reasons included). */
  conditions: string[];
  logUri?: string;
  /** The failed revision's last error lines (redacted), when Cloud Logging was read. */
  logLines: string[];
}

interface TagFacts {
  tag: string;
  tagDigest: string;
  servingDigest: string;
  revision: string;
  name: string;
  region: string;
}

const describeRevision = (f: RolloutFacts) => `gcloud run revisions describe ${f.latestCreated} --region ${f.region}; its logs say why`;

export const CLOUD_RUN = defineCatalogue("run", {
  REVISION_FAILED: {
    class: "unhealthy",
    code: "REVISION_FAILED",
    message: (f: RolloutFacts) =>
      `newest revision ${f.latestCreated} failed and never became ready (${f.newest ?? "no condition reported"}); traffic stays on ${f.latestReady || "no ready revision"} — the deploy did not take effect` +
      (f.conditions.length ? `; conditions: ${f.conditions.join("; ")}` : "") +
      (f.logLines.length ? `; its container wrote: ${f.logLines.map((line) => `"${line}"`).join(" … ")}` : "") +
      (f.logUri ? `; logs: ${f.logUri}` : ""),
    hint: (f: RolloutFacts) =>
      `Fix the newest revision (${describeRevision(f)}), then redeploy; until then the previous revision keeps serving` +
      (f.latestReady ? ` — to pin it explicitly: gcloud run services update-traffic ${f.name} --to-revisions=${f.latestReady}=100 --region ${f.region}.` : "."),
  },
  NOT_CONVERGED: {
    class: "unhealthy",
    code: "NOT_CONVERGED",
    message: (f: RolloutFacts) =>
      `service ${f.name} has not converged: a rollout is in progress (generation ${f.generation}, observed ${f.observedGeneration}, Ready ${f.condition})` +
      (f.latestCreated !== f.latestReady ? `; newest revision ${f.latestCreated} is not ready yet` : ""),
    hint: "A deployment is still rolling out: re-run when it settles, or poll until it converges with --wait DURATION (a longer one if a wait already ran out).",
  },
  NOT_READY: {
    class: "unhealthy",
    code: "NOT_READY",
    message: (f: RolloutFacts) => `service ${f.name} is not Ready (${f.condition})${f.latestCreated !== f.latestReady && f.newest ? `; newest revision ${f.latestCreated}: ${f.newest}` : ""}`,
    hint: (f: RolloutFacts) => `Inspect the service's conditions: gcloud run services describe ${f.name} --region ${f.region}.`,
  },
  LATEST_NOT_READY: {
    class: "unhealthy",
    code: "LATEST_NOT_READY",
    message: (f: RolloutFacts) => `newest revision ${f.latestCreated} is not the latest ready one (${f.latestReady || "none"})${f.newest ? `: ${f.newest}` : ""}`,
    hint: (f: RolloutFacts) => `Inspect it: ${describeRevision(f)}.`,
  },
  TAG_MOVED: {
    class: "drift",
    code: "TAG_MOVED",
    message: (f: TagFacts) =>
      `tag \`:${f.tag}\` now points to ${f.tagDigest} but the serving revision ${f.revision} runs ${f.servingDigest} (the deploy reused the tag without a new revision)`,
    hint: (f: TagFacts) =>
      `Cloud Run resolves a tag to a digest once, when a revision is created: deploy again so a new revision picks up the new push (gcloud run deploy ${f.name} --image IMAGE@${f.tagDigest} --region ${f.region}), and push a new tag per commit rather than moving one.`,
  },
  NO_TRAFFIC: {
    class: "unhealthy",
    code: "NO_TRAFFIC",
    message: (f: { name: string; traffic: string }) => `service ${f.name} sends no traffic to any revision (${f.traffic || "no traffic targets"})`,
    hint: (f: { name: string; region: string }) => `Route traffic: gcloud run services update-traffic ${f.name} --to-latest --region ${f.region}.`,
  },
});

function rolloutFacts(measurement: Measurement, spec: CloudRunSpec): RolloutFacts {
  const m = measurement.metrics;
  const service = typeof m.service === "string" ? m.service : spec.service;
  return {
    name: shortName(service),
    region: regionOf(service, spec.region),
    generation: m.generation ?? null,
    observedGeneration: m.observedGeneration ?? null,
    condition: String(m.condition ?? "no condition reported"),
    latestReady: typeof m.latestReadyRevision === "string" ? m.latestReadyRevision : "",
    latestCreated: typeof m.latestCreatedRevision === "string" ? m.latestCreatedRevision : "",
    ...(typeof m.newestRevisionCondition === "string" ? { newest: m.newestRevisionCondition } : {}),
    conditions: [...strings(m.newestRevisionConditions).filter((text) => !text.startsWith("Ready:")), ...strings(m.serviceConditions)],
    ...(typeof m.newestRevisionLogUri === "string" ? { logUri: m.newestRevisionLogUri } : {}),
    logLines: strings(m.newestRevisionLogs),
  };
}

const strings = (value: MetricValue | undefined): string[] => (Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === "string") : []);

/** A rollout that is not SERVING, in the API's own words. */
export function explainRollout(actual: MetricValue | undefined, _expectation: Expectation, measurement: Measurement, spec: CloudRunSpec): Explained | undefined {
  const facts = rolloutFacts(measurement, spec);
  switch (actual) {
    case "REVISION_FAILED":
      return explanationOf(CLOUD_RUN.REVISION_FAILED, facts);
    case "NOT_CONVERGED":
      return explanationOf(CLOUD_RUN.NOT_CONVERGED, facts);
    case "NOT_READY":
      return explanationOf(CLOUD_RUN.NOT_READY, facts);
    case "LATEST_NOT_READY":
      return explanationOf(CLOUD_RUN.LATEST_NOT_READY, facts);
  }
  return undefined;
}

export const ROLLOUT_SERVING: Expectation = { ...parseExpectation("SERVING"), source: "SERVING (Ready, converged, the newest revision ready)" };

export function judgeService(spec: CloudRunSpec, measurement: Measurement): Assertion[] {
  const metrics = measurement.metrics;
  const require = spec.require ?? {};
  const assertions: Assertion[] = [];
  const add = (metric: string, expected: string, actual: MetricValue | undefined, ok: boolean, failureClass: "unhealthy" | "drift", explained?: Explained) =>
    assertions.push({ metric, op: "==", expected, actual, ok, severity: "fail", ...(ok ? {} : { class: failureClass, ...explained }) });

  // Traffic first: an old revision serving explains every drift after it.
  const serving = (Array.isArray(metrics.servingRevisions) ? metrics.servingRevisions : []) as { revision: string; percent: number }[];
  const tags = (metrics.tags ?? {}) as Record<string, string>;
  let wanted: string | undefined;
  let why: string;
  if (require.revision) {
    wanted = shortName(require.revision);
    why = "expected revision";
  } else if (require.tag) {
    wanted = tags[require.tag];
    why = wanted ? `tagged ${require.tag}` : `tagged ${require.tag} — no such tag`;
  } else {
    wanted = typeof metrics.latestReadyRevision === "string" ? metrics.latestReadyRevision : undefined;
    why = "latest ready revision";
  }
  const percent = serving.filter((entry) => entry.revision === wanted).reduce((sum, entry) => sum + entry.percent, 0);
  const facts = rolloutFacts(measurement, spec);
  const noTraffic = serving.length === 0 ? explanationOf(CLOUD_RUN.NO_TRAFFIC, { ...facts, traffic: String(metrics.traffic ?? "") }) : undefined;
  add("traffic", `100% on ${wanted ?? "?"} (${why})`, metrics.traffic, wanted !== undefined && percent === 100, "unhealthy", noTraffic);

  const image = typeof metrics.image === "string" ? metrics.image : null;
  const digest = typeof metrics.imageDigest === "string" ? metrics.imageDigest : null;
  const tagDigests = (metrics.tagDigests && typeof metrics.tagDigests === "object" && !Array.isArray(metrics.tagDigests) ? metrics.tagDigests : {}) as Record<string, string | null>;
  const deployed = image ? parseImage(image) : undefined;
  const revision = typeof metrics.servingRevisions === "object" && serving[0] ? serving[0].revision : "?";
  if (require.image !== undefined) {
    const ok = image !== null && imageMatches(image, require.image, digest);
    add("image", `matches ${JSON.stringify(require.image)}`, digest && /sha256:/i.test(require.image) ? `${deployed?.repository ?? image}@${digest}` : image, ok, "drift");
  }
  if (require.commit !== undefined) {
    const commit = require.commit;
    const labels = (metrics.labels ?? {}) as Record<string, string>;
    const byTag = sameCommit(deployed?.tag, commit);
    const label = Object.entries(labels).find(([, value]) => sameCommit(value, commit));
    const commitTag = Object.keys(tagDigests).find((tag) => sameCommit(tag, commit));
    const byDigest = commitTag !== undefined && digest !== null && tagDigests[commitTag] === digest;
    const how = byTag ? `image tag :${deployed?.tag}` : label ? `label ${label[0]}=${label[1]}` : byDigest ? `digest of :${commitTag}` : undefined;
    const actual = [deployed?.tag ? `image tag :${deployed.tag}` : image, digest].filter(Boolean).join(", ") || null;
    add("commit", `${commit} (image tag, commit label, or the digest of that tag)`, how ? `${commit} (${how})` : actual, how !== undefined, "drift");
  }
  // A tag the expectation relies on that was pushed again after the revision resolved it: what
  // serves is not what the tag names now (incident 8 — "deployed" but the old build serves).
  if ((require.image !== undefined || require.commit !== undefined) && digest && deployed?.tag) {
    const tagDigest = tagDigests[deployed.tag];
    if (typeof tagDigest === "string" && tagDigest !== digest) {
      const facts = rolloutFacts(measurement, spec);
      const explained = explanationOf(CLOUD_RUN.TAG_MOVED, { tag: deployed.tag, tagDigest: shortDigest(tagDigest), servingDigest: shortDigest(digest), revision, name: facts.name, region: facts.region });
      add("imageDigest", `${tagDigest} (what :${deployed.tag} points to now)`, digest, false, "drift", explained);
    }
  }
  if (require.commitLabel) {
    const labels = (metrics.labels ?? {}) as Record<string, string>;
    const { key, value } = require.commitLabel;
    add(`labels.${key}`, value, labels[key] ?? null, labels[key] === value, "drift");
  }
  if (require.vpcConnector !== undefined) {
    const actual = typeof metrics.vpcConnector === "string" ? metrics.vpcConnector : null;
    add("vpcConnector", require.vpcConnector, actual, sameResource(actual, require.vpcConnector), "drift");
  }
  if (require.directVpc) {
    const interfaces = (Array.isArray(metrics.networkInterfaces) ? metrics.networkInterfaces : []) as { network: string | null; subnetwork: string | null }[];
    const { network, subnetwork } = require.directVpc;
    const ok = interfaces.some((entry) => (!network || sameResource(entry.network, network)) && (!subnetwork || sameResource(entry.subnetwork, subnetwork)));
    const expected = [network && `network ${network}`, subnetwork && `subnetwork ${subnetwork}`].filter(Boolean).join(", ") || "any network interface";
    const actual = interfaces.length
      ? interfaces.map((entry) => [entry.network, entry.subnetwork].filter(Boolean).join("/")).join(", ")
      : metrics.vpcConnector
        ? `no Direct VPC interface (connector ${String(metrics.vpcConnector)})`
        : "no Direct VPC interface";
    add("directVpc", expected, actual, ok, "drift");
  }
  const env = (metrics.env ?? {}) as Record<string, string>;
  for (const variable of require.env ?? []) {
    const how = env[variable];
    add(`env.${variable}`, "set", how === undefined ? "missing" : how === "empty" ? "set but empty" : how, how !== undefined && how !== "empty", "drift");
  }
  return assertions;
}

export { imageMatches } from "./image.js";
