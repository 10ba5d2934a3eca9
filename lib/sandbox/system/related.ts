/**
 * How related rows read back: DreamFactory loads them through the model its
 * `getModelFromTable()` names for the parent, and serialises them with that model's `toArray()`
 * (hidden columns, appended attributes, masks). Role, User and App map `lookup` to RoleLookup,
 * UserLookup and AppLookup, which hide the two other owner columns and mask private values
 * (df-core src/Models/{Role,User,App}.php getModelFromTable, {Role,User,App}Lookup.php,
 * BaseSystemLookup::toArray); a related user appends `confirmed`/`expired` (User::$appends) and a
 * related app `launch_url` (App::$appends).
 *
 * @module
 */
import type { Rec, Row } from "../columns.ts";

/** What private lookup values read back as (BaseSystemLookup::PRIVATE_MASK). */
export const SECRET_MASK = "**********";

/** Adjusts the JSON of one row as its model's `toArray()` would. */
export type Presenter = (row: Row, out: Rec) => void;

/** User's appended `confirmed` (code null or `y`) and `expired` (always false here). */
export const presentUser: Presenter = (row, out) => {
  const code = row.confirm_code;
  out.confirmed = code === null || code === undefined || code === "y";
  out.expired = false;
};

/** App's appended `launch_url` (the sandbox hosts no app files: always empty). */
export const presentApp: Presenter = (_row, out) => {
  out.launch_url = "";
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
    if (row.private && "value" in out && out.value !== null) out.value = SECRET_MASK;
  };
}

/** The presenters of a parent model's related tables (`owner`: whose lookups it maps). */
export function relatedModels(
  owner: "app_id" | "role_id" | "user_id" | null,
): Record<string, Presenter> {
  return { lookup: lookupPresenter(owner), user: presentUser, app: presentApp };
}
