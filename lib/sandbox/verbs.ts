/**
 * Which verbs each sandbox route answers, in one table, and the one place that refuses the
 * others. DreamFactory declares this in code: df-core RestHandler::processRequest maps the verb
 * through the handler's `verbAliases` and calls its `handle<VERB>` method; when there is none
 * (RestHandler's defaults return false) or it returns false, RestHandler::handleRequest answers
 * 400. The routers (server.ts, db/mod.ts) ask {@link checkVerb} before a handler runs, so
 * handlers only see verbs they answer.
 *
 * @module
 */
import { DfError } from "./http.ts";

/** The verbs that reach routing (the router refuses any other first). */
export const REST_VERBS: readonly string[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

type RestVerb = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A route's verbs, as its DreamFactory class declares them. */
interface Handles {
  /** The handler's `$this->name`, which RestHandler's message calls the service. */
  name: string;
  /** Verbs with a handler, after aliasing. */
  verbs: readonly RestVerb[];
  /** RestHandler::$verbAliases: a verb is dispatched (and refused) as its alias. */
  aliases?: Partial<Record<RestVerb, RestVerb>>;
  /**
   * GET has only RestHandler::handleGET, which evaluates getResourceIdentifier() first: for a
   * resource that keeps no records, its 400 "No known identifier for resources.".
   */
  inheritedGet?: boolean;
  /** A refusal that is not RestHandler's (see the route's comment). */
  refuse?: (verb: string) => DfError;
}

/** ReadOnlySystemResource::__construct: PUT is PATCH. */
const READ_ONLY = { PUT: "PATCH" } as const;
/** PUT and PATCH are POST (df-user's profile, password and register resources). */
const AS_POST = { PUT: "POST", PATCH: "POST" } as const;
/** UserSessionResource: login, session, refresh, logout; no aliases. */
const SESSION: Handles = { name: "session", verbs: ["GET", "POST", "PUT", "DELETE"] };
/** UserProfileResource. */
const PROFILE: Handles = { name: "profile", verbs: ["GET", "POST"], aliases: AS_POST };
/** UserPasswordResource (its handleGET returns false). */
const PASSWORD: Handles = { name: "password", verbs: ["POST"], aliases: AS_POST };

/**
 * Routes that refuse some verbs, keyed by path (`{db}` is any database service, `{table}` any
 * table). A route not listed answers all of {@link REST_VERBS}: the BaseSystemResource records,
 * environment, `{db}/_schema` and `{db}/_table/{table}`.
 */
const ROUTES: Record<string, Handles> = {
  // df-core routes/routes.php routes only GET to the root (Route::get). Another verb on /api/v2
  // falls to the {service} route (a service named "v2"), on /api to Laravel's own 405; the
  // sandbox answers this 405 instead.
  "": {
    name: "",
    verbs: ["GET"],
    refuse: (verb) => new DfError(405, `${verb} is not supported on the API root.`),
  },
  // BaseRestService: handleGET only.
  system: { name: "system", verbs: ["GET"] },
  user: { name: "user", verbs: ["GET"] },
  "{db}": { name: "{db}", verbs: ["GET"] },
  "system/admin/session": SESSION,
  "system/admin/profile": PROFILE,
  "system/admin/password": PASSWORD,
  "user/session": SESSION,
  "user/profile": PROFILE,
  "user/password": PASSWORD,
  // Register: handlePOST only, and RestHandler's handleGET.
  "user/register": { name: "register", verbs: ["POST"], aliases: AS_POST, inheritedGet: true },
  // Cache: a BaseRestResource with getResources() and handleDELETE.
  "system/cache": { name: "cache", verbs: ["GET", "DELETE"] },
  "system/constant": { name: "constant", verbs: ["GET"], aliases: READ_ONLY },
  "system/event": { name: "event", verbs: ["GET"] },
  "system/service_type": { name: "service_type", verbs: ["GET"], aliases: READ_ONLY },
  // df-limits LimitCache is a BaseSystemResource on the Limit model, so DreamFactory would run
  // POST, PUT and PATCH as writes of limits; the sandbox serves only the counters.
  "system/limit_cache": {
    name: "limit_cache",
    verbs: ["GET", "DELETE"],
    refuse: (verb) => new DfError(405, `${verb} requests are not supported on limit_cache.`),
  },
  // BaseDbTableResource's handlePost/PUT/Patch/Delete return false without a table name.
  "{db}/_table": { name: "_table", verbs: ["GET"] },
  // DbSchemaResource writes virtual relationships; the sandbox derives them from foreign keys.
  "{db}/_schema/{table}/_related": {
    name: "_related",
    verbs: ["GET"],
    refuse: () => new DfError(400, "Virtual relationships are not supported by the sandbox."),
  },
};

/**
 * Throws the route's refusal when it does not answer `method`: RestHandler::handleRequest's
 * 400 naming the (aliased) verb and the handler, unless the route says otherwise. `service` is
 * the name of the service a `{db}` route belongs to.
 */
export function checkVerb(route: string, method: string, service?: string): void {
  const h = ROUTES[route];
  if (!h) return; // a route not in the table answers every REST verb
  const verb = h.aliases?.[method as RestVerb] ?? method;
  if (h.verbs.includes(verb as RestVerb)) return;
  if (h.refuse) throw h.refuse(verb);
  if (verb === "GET" && h.inheritedGet) {
    throw new DfError(400, "No known identifier for resources.");
  }
  const name = h.name === "{db}" ? service ?? h.name : h.name;
  throw new DfError(
    400,
    `${verb} requests without a resource are not currently supported by the '${name}' service.`,
  );
}

/**
 * The 500 a handler throws for a verb it has no branch for: unreachable while the routers ask
 * {@link checkVerb} first, so a mistake in the table fails loudly instead of running another
 * verb's branch (handlers name DELETE explicitly rather than taking it as the default).
 */
export function unhandledVerb(method: string): DfError {
  return new DfError(500, `The sandbox has no ${method} handler here.`);
}
