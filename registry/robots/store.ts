import type { RobotScopes } from "../auth/principal";
import { containsPattern, type Queryable } from "../db/sql";

export type RobotLevel = "system" | "project";

export interface RobotAccess {
  resource: string;
  action: string;
}

/** Grants in one namespace: the system, one project (projectId), or every project (kind project, projectId null). */
export interface RobotPermission {
  kind: "system" | "project";
  projectId: number | null;
  access: RobotAccess[];
}

export interface RobotRow {
  id: number;
  /** The stored name: `<project>+<name>` or `<name>`; clients see and log in with ROBOT_PREFIX + this. */
  name: string;
  description: string;
  level: RobotLevel;
  project_id: number | null;
  duration: number;
  /** Unix seconds; -1 = never. */
  expires_at: number;
  disabled: boolean;
  creator_type: "local" | "robot";
  creator_ref: number;
  created_at: Date;
  updated_at: Date;
  permissions: (RobotPermission & { namespace: string })[];
}

export const ROBOT_PREFIX = "robot$";

export interface NewRobot {
  name: string;
  description: string;
  level: RobotLevel;
  projectId: number | null;
  duration: number;
  disabled: boolean;
  creatorType: "local" | "robot";
  creatorRef: number;
  /** From hashPassword, computed before the transaction opens. */
  secretHash: string;
  permissions: RobotPermission[];
}

export interface RobotChange {
  description?: string;
  disabled?: boolean;
  duration?: number;
  /** Replaces every grant when given. */
  permissions?: RobotPermission[];
}

// expires_at is bigint: float8 makes both drivers return a number. secret_hash is selected only by credentialsOf.
const SELECT_ROBOT = `
  SELECT id, name, description, level, project_id, duration, expires_at::float8 AS expires_at, disabled,
         creator_type, creator_ref, created_at, updated_at
    FROM robots`;

const DAY_SECONDS = 86_400;

/** When a robot of `durationDays` (-1 = never) created at `createdAt` expires, in Unix seconds. */
export function expiryOf(createdAt: Date, durationDays: number): number {
  return durationDays === -1 ? -1 : Math.floor(createdAt.getTime() / 1000) + durationDays * DAY_SECONDS;
}

/** A robot's grants as the permission check reads them. */
export function scopesOf(permissions: readonly RobotPermission[]): RobotScopes {
  const pairs = (p: RobotPermission) => p.access.map((a) => `${a.resource}:${a.action}`);
  const system = new Set<string>();
  const allProjects = new Set<string>();
  const projects = new Map<number, Set<string>>();
  for (const permission of permissions) {
    if (permission.kind === "system") pairs(permission).forEach((pair) => system.add(pair));
    else if (permission.projectId === null) pairs(permission).forEach((pair) => allProjects.add(pair));
    else projects.set(permission.projectId, new Set([...(projects.get(permission.projectId) ?? []), ...pairs(permission)]));
  }
  return { system, allProjects, projects };
}

export class RobotStore {
  constructor(private readonly db: Queryable) {}

  async findById(id: number): Promise<RobotRow | null> {
    const [row] = await this.withPermissions(await this.db.query<RobotRow>(`${SELECT_ROBOT} WHERE id = $1`, [id]));
    return row ?? null;
  }

  /** The robot logging in as `ROBOT_PREFIX + name`, with its secret hash. */
  async credentialsOf(name: string): Promise<(RobotRow & { secret_hash: string }) | null> {
    const rows = await this.db.query<RobotRow & { secret_hash: string }>(
      `SELECT r.*, r.expires_at::float8 AS expires_at FROM robots r WHERE r.name = $1`,
      [name],
    );
    const [row] = await this.withPermissions(rows);
    return row ?? null;
  }

  async list(options: { level: RobotLevel; projectId: number | null; name?: string; limit: number; offset: number }) {
    const params: unknown[] = [options.level];
    let where = "level = $1";
    if (options.projectId !== null) {
      params.push(options.projectId);
      where += ` AND project_id = $${params.length}`;
    }
    if (options.name) {
      params.push(containsPattern(options.name));
      where += ` AND name ILIKE $${params.length}`;
    }
    const [{ total }] = await this.db.query<{ total: number }>(`SELECT count(*)::int AS total FROM robots WHERE ${where}`, params);
    const rows = await this.db.query<RobotRow>(
      `${SELECT_ROBOT} WHERE ${where} ORDER BY id LIMIT ${options.limit} OFFSET ${options.offset}`,
      params,
    );
    return { rows: await this.withPermissions(rows), total };
  }

  /** Creates a robot and its grants; null when the name is taken. */
  async create(robot: NewRobot, db: Queryable): Promise<{ id: number; createdAt: Date; expiresAt: number } | null> {
    const now = new Date();
    const expiresAt = expiryOf(now, robot.duration);
    const [row] = await db.query<{ id: number }>(
      `INSERT INTO robots (name, description, secret_hash, level, project_id, duration, expires_at, disabled,
                           creator_type, creator_ref, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
       ON CONFLICT (name) DO NOTHING RETURNING id`,
      [robot.name, robot.description, robot.secretHash, robot.level, robot.projectId, robot.duration, expiresAt,
        robot.disabled, robot.creatorType, robot.creatorRef, now],
    );
    if (!row) return null;
    await this.insertPermissions(row.id, robot.permissions, db);
    return { id: row.id, createdAt: now, expiresAt };
  }

  /** Applies a change; a new duration counts from the robot's creation, as in Harbor. */
  async update(robot: RobotRow, change: RobotChange, db: Queryable): Promise<boolean> {
    const duration = change.duration ?? robot.duration;
    const rows = await db.query(
      `UPDATE robots SET description = $2, disabled = $3, duration = $4, expires_at = $5, updated_at = now()
        WHERE id = $1 RETURNING id`,
      [robot.id, change.description ?? robot.description, change.disabled ?? robot.disabled, duration,
        expiryOf(robot.created_at, duration)],
    );
    if (rows.length === 0) return false;
    if (change.permissions) {
      await db.query("DELETE FROM robot_permissions WHERE robot_id = $1", [robot.id]);
      await this.insertPermissions(robot.id, change.permissions, db);
    }
    return true;
  }

  async setSecretHash(id: number, secretHash: string, db: Queryable): Promise<boolean> {
    const rows = await db.query("UPDATE robots SET secret_hash = $2, updated_at = now() WHERE id = $1 RETURNING id", [id, secretHash]);
    return rows.length > 0;
  }

  async delete(id: number, db: Queryable): Promise<boolean> {
    return (await db.query("DELETE FROM robots WHERE id = $1 RETURNING id", [id])).length > 0;
  }

  private async insertPermissions(robotId: number, permissions: readonly RobotPermission[], db: Queryable): Promise<void> {
    for (const permission of permissions) {
      await db.query("INSERT INTO robot_permissions (robot_id, kind, project_id, access) VALUES ($1, $2, $3, $4)", [
        robotId,
        permission.kind,
        permission.projectId,
        JSON.stringify(permission.access),
      ]);
    }
  }

  private async withPermissions<R extends RobotRow>(rows: R[]): Promise<R[]> {
    if (rows.length === 0) return rows;
    const grants = await this.db.query<{ robot_id: number; kind: "system" | "project"; project_id: number | null; project_name: string | null; access: RobotAccess[] }>(
      `SELECT g.robot_id, g.kind, g.project_id, p.name AS project_name, g.access
         FROM robot_permissions g LEFT JOIN projects p ON p.id = g.project_id
        WHERE g.robot_id = ANY($1::int[]) ORDER BY g.id`,
      [rows.map((r) => r.id)],
    );
    return rows.map((row) => ({
      ...row,
      permissions: grants
        .filter((g) => g.robot_id === row.id)
        .map((g) => ({
          kind: g.kind,
          projectId: g.project_id,
          namespace: g.kind === "system" ? "/" : (g.project_name ?? "*"),
          access: g.access,
        })),
    }));
  }
}
