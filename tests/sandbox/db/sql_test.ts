import assert from "node:assert/strict";
import { renderSql } from "../../../lib/sandbox/db/sql.ts";

Deno.test("renderSql: bindings spliced in as Laravel's Str::replaceArray does (a null leaves the ?)", () => {
  assert.equal(
    renderSql('update "t" set "a" = ?, "b" = ? where "id" = ?', [null, "x y", 3]),
    'update "t" set "a" = ?, "b" = x y where "id" = 3',
  );
  assert.equal(renderSql("select ?", [new Uint8Array([1])]), "select <binary>");
});
