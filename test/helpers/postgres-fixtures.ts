// PostgreSQL fixtures for the probe tests: the clusters' roles, a check
// builder for them, and sessions held open to fill connection slots or keep a
// smart shutdown waiting. Real servers only (src/demo/postgres.ts).
import pg from "pg";
import type { PostgresServer } from "../../src/demo/postgres.js";

/** Login roles every test cluster gets; passwords contain characters a URL must encode. */
export const ROLES = {
  app: { name: "app", password: "app-S3cret/with:odd@chars" },
  /** Only a `hostssl` line lets it in (on the cluster that has one). */
  tlsOnly: { name: "tls_only", password: "tls-only-Pa55word" },
  /** Covered by no pg_hba.conf line at all. */
  noHba: { name: "no_hba", password: "no-hba-Pa55word" },
} as const;

/** A raw postgres check (as it would appear in YAML) for `role` on `server`; `overrides` win. */
export function pgCheck(
  server: Pick<PostgresServer, "port">,
  overrides: Record<string, unknown> = {},
  role: { name: string; password: string } = ROLES.app,
): Record<string, unknown> {
  return {
    kind: "postgres",
    url: `postgres://${role.name}@127.0.0.1:${server.port}/app`,
    password: role.password,
    ...overrides,
  };
}

export interface HeldSessions {
  clients: pg.Client[];
  release(): Promise<void>;
}

/** Open `count` plaintext sessions as `role` and keep them until release(). */
export async function holdSessions(server: Pick<PostgresServer, "port">, count: number, role: { name: string; password: string } = ROLES.app): Promise<HeldSessions> {
  const clients: pg.Client[] = [];
  const release = async () => {
    await Promise.all(clients.splice(0).map((client) => client.end().catch(() => undefined)));
  };
  try {
    for (let i = 0; i < count; i += 1) {
      const client = new pg.Client({ host: "127.0.0.1", port: server.port, user: role.name, password: role.password, database: "app", ssl: false, connectionTimeoutMillis: 5_000 });
      // A session ended by the server (shutdown) must not become an unhandled error event.
      client.on("error", () => undefined);
      await client.connect();
      clients.push(client);
    }
  } catch (error) {
    await release();
    throw error;
  }
  return { clients, release };
}
