/**
 * Offline behaviour of the migration documents: canonical serialisation, diffs of in-memory
 * snapshots, write bodies built from portable objects, secret references, split folders.
 */
import assert from "node:assert/strict";
import {
  canonicalJson,
  diff,
  readSnapshot,
  renderDiffHtml,
  renderDiffText,
  writeSnapshot,
} from "../../lib/migrate/mod.ts";
import { type BodyContext, docToBody, kindOf, recordToDoc } from "../../lib/migrate/kinds.ts";
import {
  envRef,
  MissingSecretError,
  SecretResolver,
  uniqueEnvRefs,
} from "../../lib/migrate/secrets.ts";
import type { JsonObject, SnapshotDocument } from "../../lib/migrate/types.ts";

function doc(objects: SnapshotDocument["objects"]): SnapshotDocument {
  return {
    format: "dfkit.snapshot/v1",
    sections: ["services", "roles", "apps"],
    exclude_services: [],
    objects,
  };
}

const reader: JsonObject = {
  description: "reads",
  is_active: true,
  access: { "db:_table/*": { verbs: ["GET"], requestor: ["API"], filters: [], filter_op: "AND" } },
  lookups: {},
};

Deno.test("canonical JSON sorts keys at every level and is byte-stable", () => {
  const a = canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } });
  const b = canonicalJson({ a: { c: null, d: [2, { y: 2, z: 1 }] }, b: 1 });
  assert.deepEqual(a, b);
  assert.deepEqual(a.split("\n")[1], '  "a": {');
  assert.ok(a.endsWith("}\n"));
});

Deno.test("diff reports create, update with changed fields, delete and unchanged", () => {
  const from = doc({
    roles: { reader, old: { ...reader, description: "gone" } },
    apps: { web: { role: "reader", is_active: true } },
  });
  const to = doc({
    roles: {
      reader: {
        ...reader,
        access: {
          "db:_table/*": {
            verbs: ["GET", "POST"],
            requestor: ["API"],
            filters: [],
            filter_op: "AND",
          },
        },
      },
      writer: reader,
    },
    apps: { web: { role: "reader", is_active: true } },
  });
  const d = diff(from, to);
  const byName = Object.fromEntries(d.changes.map((c) => [`${c.section}/${c.name}`, c]));
  assert.deepEqual(byName["roles/writer"].action, "create");
  assert.deepEqual(byName["roles/old"].action, "delete");
  assert.deepEqual(byName["apps/web"].action, "unchanged");
  assert.deepEqual(byName["roles/reader"].action, "update");
  assert.deepEqual(byName["roles/reader"].fields, [
    { path: "access.db:_table/*.verbs", from: ["GET"], to: ["GET", "POST"] },
  ]);
  assert.deepEqual(d.summary, { create: 1, update: 1, delete: 1, unchanged: 1 });
  const text = renderDiffText(d);
  assert.match(text, /\+ roles\/writer/);
  assert.match(
    text,
    /~ roles\/reader\n\s+access\.db:_table\/\*\.verbs: \["GET"\] -> \["GET","POST"\]/,
  );
  assert.match(text, /1 to create, 1 to update, 1 to delete, 1 unchanged/);
  // Jupyter rendering, and the plain document stays JSON.
  const shown = (d as unknown as Record<symbol, () => Record<string, string>>)
    [Symbol.for("Jupyter.display")]();
  assert.match(shown["text/html"], /<table>.*roles.*writer/s);
  assert.deepEqual(renderDiffHtml(d), shown["text/html"]);
  assert.deepEqual(Object.keys(JSON.parse(JSON.stringify(d))).sort(), ["changes", "summary"]);
  // Worded as drift (from a snapshot to the live instance): what differs there, no actions.
  const drifted = renderDiffText(d, { drift: true });
  assert.match(drifted, /\+ roles\/writer {2}\(only on the instance\)/);
  assert.match(drifted, /- roles\/old {2}\(missing on the instance\)/);
  assert.match(drifted, /~ roles\/reader {2}\(changed on the instance\)/);
  assert.match(
    drifted,
    /1 missing on the instance, 1 only on the instance, 1 changed on the instance, 1 unchanged\./,
  );
  assert.doesNotMatch(drifted, /to (create|update|delete)/);
  assert.match(renderDiffHtml(d, { drift: true }), /missing on the instance<\/td>/);
});

Deno.test("diff refuses documents that are not snapshots", () => {
  assert.throws(() => diff({} as SnapshotDocument, doc({})), /not a dfkit snapshot/);
});

function ids(known: Record<string, number>): BodyContext {
  return {
    id: (kind, name) => known[`${kind}:${name}`],
    secret: (v) => v,
  };
}

Deno.test("role update body: changed rows by id, new rows without id, removed rows with role_id null", () => {
  const kind = kindOf("roles");
  const live = {
    id: 7,
    doc: {
      ...reader,
      access: {
        "db:_table/*": { verbs: ["GET"], requestor: ["API"], filters: [], filter_op: "AND" },
        "db:_schema/*": { verbs: ["GET"], requestor: ["API"], filters: [], filter_op: "AND" },
      },
    },
    children: { access: { "db:_table/*": 70, "db:_schema/*": 71 }, lookups: {} },
  };
  const desired: JsonObject = {
    ...reader,
    access: {
      "db:_table/*": {
        verbs: ["GET", "DELETE"],
        requestor: ["API"],
        filters: [],
        filter_op: "AND",
      },
      "*:": { verbs: ["GET"], requestor: ["API", "SCRIPT"], filters: [], filter_op: "AND" },
    },
  };
  const body = docToBody(
    kind,
    "reader",
    desired,
    ids({ "service:db": 12 }),
    live,
    new Set(["access"]),
  );
  assert.deepEqual(body, {
    id: 7,
    role_service_access_by_role_id: [
      {
        id: 70,
        service_id: 12,
        component: "_table/*",
        verb_mask: 17,
        requestor_mask: 1,
        filters: [],
        filter_op: "AND",
      },
      {
        service_id: null,
        component: "",
        verb_mask: 1,
        requestor_mask: 3,
        filters: [],
        filter_op: "AND",
      },
      { id: 71, role_id: null },
    ],
  });
});

Deno.test("app create body resolves the role by name and the API key from the environment", () => {
  const kind = kindOf("apps");
  const secrets = new SecretResolver({ DF_APP_MOBILE_API_KEY: "k".repeat(64) });
  const ctx: BodyContext = {
    id: (k, n) => (k === "role" && n === "reader" ? 42 : undefined),
    secret: (v, usedBy) => secrets.resolve(v, usedBy),
  };
  const body = docToBody(kind, "mobile", {
    description: null,
    is_active: true,
    type: 0,
    role: "reader",
    storage_service: null,
    api_key: envRef(["APP", "mobile", "API_KEY"]),
    lookups: {},
  }, ctx);
  assert.deepEqual(body.role_id, 42);
  assert.deepEqual(body.api_key, "k".repeat(64));
  assert.deepEqual(body.name, "mobile");
  secrets.check();
});

Deno.test("missing secrets are all reported at once, naming variable and object", () => {
  const secrets = new SecretResolver({});
  secrets.resolve("env:DF_APP_A_API_KEY", "apps/a api_key");
  secrets.resolve("env:DF_USER_X_PASSWORD?", "users/x password");
  secrets.resolve("env:DF_LOOKUP_TOKEN", "lookups/token");
  let e: MissingSecretError | undefined;
  try {
    secrets.check();
  } catch (err) {
    e = err as MissingSecretError;
  }
  assert.ok(e instanceof MissingSecretError);
  assert.deepEqual(e.missing.map((m) => m.variable), ["DF_APP_A_API_KEY", "DF_LOOKUP_TOKEN"]);
  assert.match(e.message, /DF_APP_A_API_KEY \(for apps\/a api_key\)/);
});

Deno.test("env variable names are derived from the object", () => {
  assert.deepEqual(
    envRef(["SERVICE", "mail-out.prod", "password"]),
    "env:DF_SERVICE_MAIL_OUT_PROD_PASSWORD",
  );
  assert.deepEqual(
    envRef(["USER", "jo@x.com", "PASSWORD"], true),
    "env:DF_USER_JO_X_COM_PASSWORD?",
  );
});

Deno.test("a split snapshot folder round-trips and drops files of removed objects", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const d = doc({ roles: { reader, "a/b*": reader }, services: {}, apps: {} });
    await writeSnapshot(d, dir, { split: true });
    const files = [...Deno.readDirSync(`${dir}/roles`)].map((e) => e.name).sort();
    assert.deepEqual(files, ["a%2Fb%2A.json", "reader.json"]);
    assert.deepEqual(canonicalJson(await readSnapshot(dir)), canonicalJson(d));
    delete d.objects.roles!["a/b*"];
    await writeSnapshot(d, dir, { split: true });
    assert.deepEqual([...Deno.readDirSync(`${dir}/roles`)].map((e) => e.name), ["reader.json"]);
    assert.deepEqual(canonicalJson(await readSnapshot(dir)), canonicalJson(d));
    // A broken object file is named with where it breaks, never quoted (it may hold a secret).
    await Deno.writeTextFile(
      `${dir}/roles/reader.json`,
      '{"name":"reader","config":{"password":Sup3rS3cret-x}}',
    );
    const err = await readSnapshot(dir).then(() => undefined, (e: Error) => e);
    assert.ok(err, "a broken file is an error");
    assert.match(err.message, /reader\.json is not valid JSON: line 1, column \d+/);
    assert.ok(!err.message.includes("Sup3rS3cret"), err.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a split snapshot folder it cannot write or read is one sentence naming the file", async () => {
  const dir = await Deno.makeTempDir();
  const failure = (p: Promise<unknown>) =>
    p.then(() => assert.fail("expected an error"), (e: Error) => e.message);
  try {
    const d = doc({ roles: { reader }, services: {}, apps: {} });
    // A file where the folder goes.
    await Deno.writeTextFile(`${dir}/file`, "");
    assert.equal(
      await failure(writeSnapshot(d, `${dir}/file`, { split: true })),
      `cannot create snapshot folder ${dir}/file: a file of that name is in the way`,
    );
    // A folder where snapshot.json goes.
    await Deno.mkdir(`${dir}/a/snapshot.json`, { recursive: true });
    assert.equal(
      await failure(writeSnapshot(d, `${dir}/a`, { split: true })),
      `cannot write snapshot ${dir}/a/snapshot.json: it is a folder`,
    );
    // A file where a section's folder goes.
    await Deno.mkdir(`${dir}/b`);
    await Deno.writeTextFile(`${dir}/b/roles`, "");
    assert.equal(
      await failure(writeSnapshot(d, `${dir}/b`, { split: true })),
      `cannot create snapshot folder ${dir}/b/roles: a file of that name is in the way`,
    );
    // A folder where an object's file goes.
    await Deno.mkdir(`${dir}/c/roles/reader.json`, { recursive: true });
    const objectFile = await failure(writeSnapshot(d, `${dir}/c`, { split: true }));
    assert.equal(
      objectFile,
      `cannot write snapshot file ${dir}/c/roles/reader.json: it is a folder`,
    );
    // Reading: a section that is a file, a path through a file.
    const head = { format: "dfkit.snapshot/v1", sections: ["roles"], exclude_services: [] };
    await Deno.mkdir(`${dir}/d`);
    await Deno.writeTextFile(`${dir}/d/snapshot.json`, JSON.stringify(head));
    await Deno.writeTextFile(`${dir}/d/roles`, "");
    for (
      const [path, message] of [
        [`${dir}/d`, `cannot read snapshot folder ${dir}/d/roles: `],
        [`${dir}/file/x.json`, `cannot read snapshot ${dir}/file/x.json: `],
      ]
    ) {
      assert.equal(
        await failure(readSnapshot(path)),
        `${message}a part of the path is a file, not a folder`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("service config secrets become references; unchanged ones are written back as the mask", () => {
  const kind = kindOf("services");
  const names = {
    service: new Map(),
    role: new Map([[4, "mailer-admin"]]),
    app: new Map(),
    user: new Map(),
    email_template: new Map(),
  } as Parameters<typeof recordToDoc>[2];
  const doc = recordToDoc(kind, {
    id: 9,
    name: "mail-out",
    label: "Mail",
    description: null,
    is_active: true,
    type: "smtp_email",
    config: {
      service_id: 9,
      host: "smtp.example.com",
      port: 587,
      username: "mailer",
      password: "**********",
      client_secret: "plain-but-secret",
      owner_role_id: 4,
    },
  }, names);
  assert.deepEqual(doc.config, {
    host: "smtp.example.com",
    port: 587,
    username: "mailer",
    password: "env:DF_SERVICE_MAIL_OUT_PASSWORD",
    client_secret: "env:DF_SERVICE_MAIL_OUT_CLIENT_SECRET",
    owner_role_id: { $ref: "role:mailer-admin" },
  });
  assert.ok(!canonicalJson(doc).includes("plain-but-secret"));

  const secrets = new SecretResolver({ DF_SERVICE_MAIL_OUT_CLIENT_SECRET: "new-secret" });
  const ctx: BodyContext = {
    id: (k, n) => (k === "role" && n === "mailer-admin" ? 40 : undefined),
    secret: (v, usedBy) => secrets.resolve(v, usedBy),
  };
  const want = {
    ...doc,
    config: {
      ...(doc.config as JsonObject),
      host: "smtp2.example.com",
      client_secret: "env:DF_SERVICE_MAIL_OUT_CLIENT_SECRET_V2",
    },
  };
  const body = docToBody(
    kind,
    "mail-out",
    want,
    ctx,
    { id: 77, doc, children: {} },
    new Set(["config"]),
  );
  assert.deepEqual(body, {
    id: 77,
    config: {
      host: "smtp2.example.com",
      port: 587,
      username: "mailer",
      password: "**********",
      owner_role_id: 40,
    },
  });
  // The renamed reference had to be resolved, and its variable is unset.
  assert.deepEqual(secrets.missing.map((m) => m.variable), [
    "DF_SERVICE_MAIL_OUT_CLIENT_SECRET_V2",
  ]);
});

Deno.test("objects deriving the same variable name get distinct ones", () => {
  const objects = {
    apps: {
      "my-app": { api_key: "env:DF_APP_MY_APP_API_KEY" },
      "my_app": { api_key: "env:DF_APP_MY_APP_API_KEY" },
      other: { api_key: "env:DF_APP_OTHER_API_KEY" },
    },
  };
  uniqueEnvRefs(objects);
  assert.deepEqual(objects.apps, {
    "my-app": { api_key: "env:DF_APP_MY_APP_API_KEY" },
    "my_app": { api_key: "env:DF_APP_MY_APP_API_KEY_2" },
    other: { api_key: "env:DF_APP_OTHER_API_KEY" },
  });
});
