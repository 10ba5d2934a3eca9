/**
 * How related rows read back: DreamFactory loads them through the model its
 * `getModelFromTable()` names for the parent, and serialises them with that model's `toArray()`
 * (hidden columns, appended attributes, masks). Role, User and App map `lookup` to RoleLookup,
 * UserLookup and AppLookup, which hide the two other owner columns and mask private values
 * (df-core src/Models/{Role,User,App}.php getModelFromTable, {Role,User,App}Lookup.php,
 * BaseSystemLookup::toArray); a related user appends `confirmed`/`expired` (User::$appends), a
 * related app `launch_url` (App::$appends), and a related service shows its `config` (Service).
 * Rows of a many_many relation also carry Laravel's `pivot` (records.ts).
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { Rec, Row } from "../columns.ts";
import { stmt } from "../statements.ts";
import { configView } from "./service.ts";

// Private lookup values read back as DreamFactory's one mask (BaseSystemLookup::PRIVATE_MASK).
import { MASK } from "../../secrets.ts";

/** What a presenter may need of the request: the database and the server's origin. */
export interface PresentContext {
  db: DatabaseSync;
  origin: string;
}

/** Adjusts the JSON of one row as its model's `toArray()` would. */
export type Presenter = (row: Row, out: Rec, ctx: PresentContext) => void;

/** `df.confirm_code_ttl`'s default: minutes a pending confirmation code stays valid. */
const CONFIRM_CODE_TTL = 1440;

/**
 * User's appended `confirmed` and `expired` (User::getConfirmedAttribute, isConfirmationExpired),
 * from the attributes the query loaded: a code not loaded (partial `fields`) reads as null, so
 * confirmed and not expired; a pending code (neither null nor `y`) is expired once
 * `last_modified_date` is more than the TTL old, and strtotime() of an unloaded date is false (0).
 */
export const presentUser: Presenter = (row, out) => {
  const code = row.confirm_code;
  const pending = code !== null && code !== undefined && code !== "y";
  out.confirmed = !pending;
  const modified = typeof row.last_modified_date === "string"
    ? Date.parse(`${row.last_modified_date.replace(" ", "T")}Z`)
    : NaN;
  const since = Math.floor(Date.now() / 1000) -
    (Number.isFinite(modified) ? Math.floor(modified / 1000) : 0);
  out.expired = pending && since > CONFIRM_CODE_TTL * 60;
};

/** Laravel's url(): the origin and the path trimmed of slashes; a full URL as it is. */
function laravelUrl(origin: string, path: string): string {
  if (/^([a-z][a-z0-9+.-]*:|\/\/)/i.test(path)) return path;
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  return trimmed ? `${origin}/${trimmed}` : origin;
}

/**
 * App's appended `launch_url` (App::getLaunchUrlAttribute), from the attributes the query loaded
 * (so partial `fields` without `type` give ""): a storage app is
 * `url(<service>/<container>/<path>)`, a path app `url(<path>)`, a URL app its `url`.
 */
export const presentApp: Presenter = (_row, out, ctx) => {
  let launch: unknown = "";
  switch (out.type) {
    case 1: {
      const name = out.storage_service_id === null || out.storage_service_id === undefined
        ? undefined
        : (stmt(ctx.db, `SELECT name FROM service WHERE id = ?`).get(
          Number(out.storage_service_id),
        ) as { name?: string } | undefined)?.name;
      if (name) {
        let path = `${name}/`;
        if (out.storage_container) path += String(out.storage_container).replace(/^\/+|\/+$/g, "");
        if (out.path) path += "/" + String(out.path).replace(/^\/+/, "");
        launch = laravelUrl(ctx.origin, path);
      }
      break;
    }
    case 3:
      launch = out.path ? laravelUrl(ctx.origin, String(out.path)) : "";
      break;
    case 2:
      launch = out.url ?? null;
      break;
  }
  out.launch_url = launch;
};

const OWNERS = ["app_id", "role_id", "user_id"];

/**
 * A lookup as BaseSystemLookup::toArray shows it (private value masked), without the owner
 * columns the model hides: all but `owner` for App/Role/UserLookup, none for BaseSystemLookup.
 */
export function lookupPresenter(owner: "app_id" | "role_id" | "user_id" | null): Presenter {
  return (row, out) => {
    if (owner) { for (const c of OWNERS) if (c !== owner) delete out[c]; }
    out.private = !!row.private;
    // BaseSystemLookup::attributesToArray masks a private value only when it is not null.
    if (row.private && "value" in out && out.value !== null) out.value = MASK;
  };
}

/**
 * A related service as Service's toArray() shows it: with its `config` (Service::$casts and
 * getConfigAttribute; no $hidden), as a full read of the service shows it.
 */
export const presentService: Presenter = (row, out) => {
  out.config = configView(row);
};

/** The presenters of a parent model's related tables (`owner`: whose lookups it maps). */
export function relatedModels(
  owner: "app_id" | "role_id" | "user_id" | null,
): Record<string, Presenter> {
  return {
    lookup: lookupPresenter(owner),
    user: presentUser,
    app: presentApp,
    service: presentService,
  };
}
