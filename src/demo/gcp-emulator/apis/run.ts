// Cloud Run Admin API v2: Services and Revisions.
import { defineEmulatedApi, type StartedApi } from "../api.js";

const REVISION = /^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+\/revisions\/[^/]+$/;
const SERVICE = /^projects\/[^/]+\/locations\/[^/]+\/services\/[^/]+$/;

export const RUN = defineEmulatedApi({
  protos: { run: "@google-cloud/run/build/protos/protos.json" },
  collections: [
    { collection: "services", pattern: SERVICE, type: "google.cloud.run.v2.Service", proto: "run", noun: "Cloud Run service" },
    { collection: "revisions", pattern: REVISION, type: "google.cloud.run.v2.Revision", proto: "run", noun: "Cloud Run revision" },
  ],
  permissions: {
    GetService: "run.services.get",
    ListServices: "run.services.list",
    GetRevision: "run.revisions.get",
    ListRevisions: "run.revisions.list",
  },
  start: (tools): StartedApi<object> => ({
    controls: {},
    services: [
      {
        proto: "run",
        service: "google.cloud.run.v2.Services",
        handlers: { getService: tools.getter("GetService", "services"), listServices: tools.lister("ListServices", "services", "services") },
      },
      {
        proto: "run",
        service: "google.cloud.run.v2.Revisions",
        handlers: { getRevision: tools.getter("GetRevision", "revisions"), listRevisions: tools.lister("ListRevisions", "revisions", "revisions") },
      },
    ],
  }),
});
