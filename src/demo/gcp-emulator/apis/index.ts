// The APIs the emulator serves. An API is one module here; add it to this
// list and its controls and options to the types below.
import type { ArtifactRegistryControls } from "./artifact-registry.js";
import type { MonitoringControls } from "./monitoring.js";
import type { MemorystoreControls, MemorystoreOptions } from "./redis.js";
import type { RunControls } from "./run.js";
import type { RunJobsControls } from "./run-jobs.js";
import type { LoggingControls } from "./logging.js";
import type { SecretManagerControls, SecretManagerOptions } from "./secret-manager.js";
import type { CloudSqlControls } from "./sql.js";
import { MONITORING } from "./monitoring.js";
import { ARTIFACT_REGISTRY } from "./artifact-registry.js";
import { MEMORYSTORE } from "./redis.js";
import { RUN } from "./run.js";
import { RUN_JOBS } from "./run-jobs.js";
import { LOGGING } from "./logging.js";
import { OPERATIONS } from "./operations.js";
import { SECRET_MANAGER } from "./secret-manager.js";
import { CLOUD_SQL } from "./sql.js";
import { VPC_ACCESS } from "./vpc-access.js";
import type { EmulatedApi } from "../api.js";

export const EMULATED_APIS: readonly EmulatedApi<object, never>[] = [RUN, VPC_ACCESS, MEMORYSTORE, SECRET_MANAGER, ARTIFACT_REGISTRY, CLOUD_SQL, MONITORING, RUN_JOBS, OPERATIONS, LOGGING];

/** Every API's own controls, on `state`. */
export type ApiControls = MemorystoreControls & SecretManagerControls & RunControls & ArtifactRegistryControls & CloudSqlControls & MonitoringControls & RunJobsControls & LoggingControls;
/** Every API's own start-up options. */
export type ApiOptions = MemorystoreOptions & SecretManagerOptions;
