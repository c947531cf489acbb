// Serverless VPC Access API v1: connectors.
import { defineEmulatedApi } from "../api.js";

export const VPC_ACCESS = defineEmulatedApi({
  protos: { vpcAccess: "@google-cloud/vpc-access/build/protos/protos.json" },
  collections: [
    {
      collection: "connectors",
      pattern: /^projects\/[^/]+\/locations\/[^/]+\/connectors\/[^/]+$/,
      type: "google.cloud.vpcaccess.v1.Connector",
      proto: "vpcAccess",
      noun: "VPC connector",
    },
  ],
  domain: "vpcaccess.googleapis.com",
  permissions: { GetConnector: "vpcaccess.connectors.get", ListConnectors: "vpcaccess.connectors.list" },
  start: (tools) => ({
    controls: {},
    services: [
      {
        proto: "vpcAccess",
      noun: "VPC connector",
        service: "google.cloud.vpcaccess.v1.VpcAccessService",
        handlers: { getConnector: tools.getter("GetConnector", "connectors"), listConnectors: tools.lister("ListConnectors", "connectors", "connectors") },
      },
    ],
  }),
});
