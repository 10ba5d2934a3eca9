/**
 * System/auth transcripts the sandbox deliberately answers differently, each with the reason.
 * The contract test fails when a file listed here starts to match (remove it) or a file not
 * listed here stops matching.
 */
export const KNOWN_SYSTEM_MISMATCHES: Record<string, string> = {
  "02-get-system.txt":
    "The listing names what the sandbox serves: it has the df-limits (limit, limit_cache) and " +
    "df-script (event_script) resources the recorded server lacked, and no package/import.",
  "09-get-user-schema-related.txt":
    "include_schema describes the sandbox's own user table: the recorded schema lists ~45 " +
    "relations and constraints of DreamFactory's full system database (token_map, " +
    "db_table_extras, ...) that the sandbox does not have.",
  "112-get-environment.txt":
    "platform lists the recorded install's paths (/opt/dreamfactory/...), log and cache " +
    "settings, which the sandbox does not have; client.user_agent is the replaying client's " +
    "(Deno), not curl.",
};
