/**
 * Database transcripts (`_table`, `_schema`, data access control) the sandbox does not reproduce.
 * Every db transcript (15-23, 59, 70-81, 90-102, 132, 137-138, 140-149, 152) matches today, so the
 * list is empty; add `file: reason` here when one cannot be matched.
 */
export const KNOWN_DB_MISMATCHES: Record<string, string> = {};

/**
 * Deliberate differences from DreamFactory 7.0.0 on SQLite that no transcript covers, kept here
 * so the README's mismatch list has one source. Keys name the behaviour, values say why.
 */
export const DB_DEVIATIONS: Record<string, string> = {
  "schema PUT / field alter / field DELETE":
    "DF 7.0.0 on SQLite answers 500 (SQLite cannot alter columns); the sandbox rebuilds the table " +
    "(copy, drop, rename, foreign keys checked) so schema migrations can be tested offline.",
  'raw SQL expressions ({"expression": ...}) in records':
    "refused with a 400: the sandbox never runs client SQL text.",
  "virtual relationships (_schema/{t}/_related writes)":
    "not supported (400); relationships are derived from foreign keys only.",
  "order/group text SQLite would have to evaluate":
    "DF passes several sort terms and non-column group fields to the database as raw SQL; the " +
    "sandbox answers column names, positions and quoted names as SQLite would (sorting, or its " +
    "error wrapped by retrieveRecordsByFilter) and refuses anything else (expressions, functions, " +
    "comments, SQL keywords) with a 400 saying it does not run it.",
  "table filters SQLite refuses: no statement in the message":
    "a filter that gets past DF's parser but not past SQLite (unbalanced parentheses, XOR, ...) is " +
    "answered with DF's wrapped 500 (\"Failed to retrieve records from 't'.\" and SQLite's error) " +
    'but without Laravel\'s " (SQL: ...)" tail: the sandbox compiles filters to its own SQL and ' +
    "never builds DreamFactory's WHERE text.",
  "schema DDL SQLite refuses: the sandbox's statement in the message":
    "a definition SQLite refuses (a reference without ref_field: REFERENCES t()) gets DF's short " +
    '500 QueryException (code HY000, SQLite\'s message, " (SQL: ...)") but the statement shown ' +
    "is the sandbox's own DDL (quoted names, its clause order), not the CREATE TABLE DF builds.",
  "writes violating role row filters":
    "checked on the stored row after the write (then undone), giving DF's 403 \"Denied access to " +
    'some of the requested fields."',
};
