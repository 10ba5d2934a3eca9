/**
 * Promotion between two live sandboxes (staging and production): snapshot, plan, apply, re-plan,
 * incremental change, drift, stale plans, a failure injected half-way and convergence on re-run.
 */
import assert from "node:assert/strict";
import { connect, type DreamFactory } from "../../lib/client.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import {
  apply,
  ApplyError,
  canonicalJson,
  drift,
  isEmpty,
  MissingSecretError,
  plan,
  readSnapshot,
  renderDiffText,
  snapshot,
  StalePlanError,
  writeSnapshot,
} from "../../lib/migrate/mod.ts";

type Rec = Record<string, unknown>;

async function list(df: DreamFactory, path: string, query: Rec = {}): Promise<Rec[]> {
  const res = await df.request<{ resource: Rec[] }>("GET", path, {
    query: query as Record<string, string>,
  });
  return res.resource;
}

async function byName(df: DreamFactory, resource: string, name: string, related?: string) {
  const rows = await list(df, `system/${resource}`, {
    filter: `name = '${name}'`,
    ...(related ? { related } : {}),
  });
  assert.equal(rows.length, 1, `${resource} ${name} exists`);
  return rows[0];
}

const MOBILE_KEY = "a1".repeat(32);
const BACKOFFICE_KEY = "b2".repeat(32);
const SECRETS: Record<string, string> = {
  DF_APP_MOBILE_API_KEY: "c3".repeat(32),
  DF_APP_BACKOFFICE_API_KEY: "d4".repeat(32),
  DF_LOOKUP_STRIPE_KEY: "sk_prod_other_secret",
  DF_ROLE_WRITER_LOOKUP_SIGNING_SECRET: "prod-signing-secret",
};

/** A realistic staging: several sqlite services, roles with access rows, apps, limits, lookups. */
/** A fresh staging and production sandbox, each with its admin connected; closed on dispose. */
async function stagingAndProd() {
  const stagingSb = await startSandbox({ port: 0 });
  const prodSb = await startSandbox({ port: 0 });
  const staging = await connect({ url: stagingSb.url, ...stagingSb.admin });
  const prod = await connect({ url: prodSb.url, ...prodSb.admin });
  return {
    staging,
    prod,
    async [Symbol.asyncDispose]() {
      await staging.logout().catch(() => {});
      await prod.logout().catch(() => {});
      await stagingSb.close();
      await prodSb.close();
    },
  };
}

async function seedStaging(df: DreamFactory): Promise<void> {
  await df.request("POST", "system/service", {
    body: {
      resource: [
        {
          name: "crm",
          label: "CRM",
          type: "sqlite",
          is_active: true,
          config: { database: "crm.sqlite" },
        },
        {
          name: "inventory",
          label: "Inventory",
          description: "stock levels",
          type: "sqlite",
          is_active: true,
          config: { database: "inventory.sqlite", max_records: 500 },
        },
      ],
    },
  });
  const services = await list(df, "system/service");
  const sid = (n: string) => services.find((s) => s.name === n)!.id;
  await df.request("POST", "system/role", {
    body: {
      resource: [
        {
          name: "reader",
          description: "read-only",
          is_active: true,
          role_service_access_by_role_id: [
            {
              service_id: sid("crm"),
              component: "_table/*",
              verb_mask: 1,
              requestor_mask: 1,
              filters: [],
              filter_op: "AND",
            },
            {
              service_id: sid("inventory"),
              component: "_table/*",
              verb_mask: 1,
              requestor_mask: 3,
              filters: [],
              filter_op: "AND",
            },
          ],
        },
        {
          name: "writer",
          description: "sales team",
          is_active: true,
          role_service_access_by_role_id: [
            {
              service_id: sid("crm"),
              component: "_table/contact/*",
              verb_mask: 1 | 2 | 8,
              requestor_mask: 1,
              filters: [{ name: "owner_id", operator: "=", value: "{user.id}" }],
              filter_op: "AND",
            },
            {
              service_id: null,
              component: "*",
              verb_mask: 1,
              requestor_mask: 1,
              filters: [],
              filter_op: "AND",
            },
          ],
          lookup_by_role_id: [
            { name: "signing_secret", value: "staging-signing-secret", private: true },
            { name: "region", value: "eu-west", private: false },
          ],
        },
      ],
    },
  });
  const roles = await list(df, "system/role");
  const rid = (n: string) => roles.find((r) => r.name === n)!.id;
  await df.request("POST", "system/app", {
    body: {
      resource: [
        {
          name: "mobile",
          description: "iOS + Android",
          type: 0,
          is_active: true,
          role_id: rid("reader"),
          api_key: MOBILE_KEY,
        },
        {
          name: "backoffice",
          type: 0,
          is_active: true,
          role_id: rid("writer"),
          api_key: BACKOFFICE_KEY,
        },
      ],
    },
  });
  await df.request("POST", "system/lookup", {
    body: {
      resource: [
        { name: "region", value: "eu", private: false },
        {
          name: "stripe_key",
          value: "sk_live_staging_secret",
          private: true,
          description: "payments",
        },
      ],
    },
  });
  await df.request("POST", "system/limit", {
    body: {
      resource: [
        {
          name: "reader-hourly",
          type: "instance.role",
          role_id: rid("reader"),
          rate: 1000,
          period: "hour",
        },
        {
          name: "crm-daily",
          type: "instance.service",
          service_id: sid("crm"),
          rate: 50000,
          period: "day",
        },
      ],
    },
  });
  await df.request("POST", "system/cors", {
    body: {
      resource: [{
        path: "api/v2/*",
        origin: "https://app.example.com",
        header: "*",
        method: ["GET", "POST"],
        max_age: 3600,
        enabled: true,
      }],
    },
  });
  await df.request("POST", "system/email_template", {
    body: { resource: [{ name: "welcome", subject: "Welcome!", body_text: "Hi {first_name}" }] },
  });
}

Deno.test("promote staging to production: plan, apply, idempotence, change, drift, failure and convergence", async (t) => {
  const stagingSb = await startSandbox({ port: 0 });
  const prodSb = await startSandbox({ port: 0 });
  const staging = await connect({ url: stagingSb.url, ...stagingSb.admin });
  const prod = await connect({ url: prodSb.url, ...prodSb.admin });
  const dir = await Deno.makeTempDir();
  try {
    await seedStaging(staging);
    // Production already has objects of its own, so its ids differ from staging's.
    await prod.request("POST", "system/role", {
      body: {
        resource: [{ name: "legacy", is_active: true }, { name: "legacy2", is_active: false }],
      },
    });
    await prod.request("POST", "system/service", {
      body: {
        resource: [{
          name: "old_db",
          type: "sqlite",
          is_active: true,
          config: { database: "old.sqlite" },
        }],
      },
    });

    let snap = await snapshot(staging);
    const file = `${dir}/staging.json`;

    await t.step("snapshots are keyed by name, byte-identical and free of secrets", async () => {
      await writeSnapshot(snap, file);
      await writeSnapshot(await snapshot(staging), `${dir}/again.json`);
      const text = await Deno.readTextFile(file);
      assert.equal(text, await Deno.readTextFile(`${dir}/again.json`));
      await writeSnapshot(snap, `${dir}/split`, { split: true });
      assert.equal(canonicalJson(await readSnapshot(`${dir}/split`)), text);
      const app = snap.objects.apps!.mobile;
      assert.equal(app.role, "reader");
      assert.equal(app.api_key, "env:DF_APP_MOBILE_API_KEY");
      assert.deepEqual(snap.objects.roles!.writer.lookups, {
        region: { value: "eu-west", private: false, description: null },
        signing_secret: {
          value: "env:DF_ROLE_WRITER_LOOKUP_SIGNING_SECRET",
          private: true,
          description: null,
        },
      });
      assert.equal(snap.objects.limits!["reader-hourly"].role, "reader");
      assert.equal(snap.objects.limits!["crm-daily"].service, "crm");
      assert.ok("crm:_table/*" in (snap.objects.roles!.reader.access as Rec));
      assert.ok("*:*" in (snap.objects.roles!.writer.access as Rec));
      // No secret, and no id, in any snapshot file.
      const files = [file];
      for await (const s of Deno.readDir(`${dir}/split`)) {
        if (s.isDirectory) {
          for await (const f of Deno.readDir(`${dir}/split/${s.name}`)) {
            files.push(`${dir}/split/${s.name}/${f.name}`);
          }
        }
      }
      const stagingKeys = (await list(staging, "system/app")).map((a) => String(a.api_key));
      for (const f of files) {
        const content = await Deno.readTextFile(f);
        for (
          const secret of [
            ...stagingKeys,
            "sk_live_staging_secret",
            "staging-signing-secret",
            stagingSb.admin.password,
          ]
        ) {
          assert.ok(!content.includes(secret), `${f} leaks a secret`);
        }
        assert.ok(!/"(id|role_id|service_id|app_id)":/.test(content), `${f} carries ids`);
      }
    });

    const first = await plan(prod, snap);
    await t.step("plan against production lists creates and leaves unmanaged objects alone", () => {
      const creates = first.changes.filter((c) => c.action === "create").map((c) =>
        `${c.section}/${c.name}`
      ).sort();
      assert.deepEqual(creates, [
        "apps/backoffice",
        "apps/mobile",
        "cors/api/v2/*",
        "email_templates/welcome",
        "limits/crm-daily",
        "limits/reader-hourly",
        "lookups/region",
        "lookups/stripe_key",
        "roles/reader",
        "roles/writer",
        "services/crm",
        "services/inventory",
      ]);
      assert.equal(first.summary.delete, 0);
      assert.deepEqual(first.unmanaged.sort(), [
        "roles/legacy",
        "roles/legacy2",
        "services/old_db",
      ]);
      assert.match(renderDiffText(first), /\+ roles\/reader/);
      assert.match(first.fingerprint, /^[0-9a-f]{64}$/);
    });

    await t.step("missing secrets stop apply before any write, naming every variable", async () => {
      const before = (await list(prod, "system/role")).length;
      await assert.rejects(
        apply(prod, first, { env: { DF_APP_MOBILE_API_KEY: SECRETS.DF_APP_MOBILE_API_KEY } }),
        (e: unknown) => {
          assert.ok(e instanceof MissingSecretError);
          assert.deepEqual(e.missing.map((m) => m.variable).sort(), [
            "DF_APP_BACKOFFICE_API_KEY",
            "DF_LOOKUP_STRIPE_KEY",
            "DF_ROLE_WRITER_LOOKUP_SIGNING_SECRET",
          ]);
          return true;
        },
      );
      assert.equal((await list(prod, "system/role")).length, before);
    });

    await t.step("dry run checks everything and writes nothing", async () => {
      const r = await apply(prod, first, { env: SECRETS, dryRun: true });
      assert.equal(r.done.length, 12);
      assert.equal(r.writeRequests, 0);
      assert.ok(isEmpty(await plan(prod, snap)) === false);
    });

    await t.step(
      "apply creates everything in dependency order with batches, ids remapped",
      async () => {
        const progress: string[] = [];
        const r = await apply(prod, first, {
          env: SECRETS,
          onProgress: (p) => void progress.push(`${p.action} ${p.section} ${p.done}/${p.total}`),
        });
        assert.equal(r.ok, true);
        assert.equal(r.done.length, 12);
        // One request per section: services, roles, apps, email_templates, lookups, cors, limits.
        assert.equal(r.writeRequests, 7);
        assert.deepEqual(progress.map((p) => p.split(" ")[1]), [
          "services",
          "roles",
          "apps",
          "email_templates",
          "lookups",
          "cors",
          "limits",
        ]);
        const pReader = await byName(prod, "role", "reader", "role_service_access_by_role_id");
        const sReader = await byName(staging, "role", "reader");
        assert.notEqual(pReader.id, sReader.id);
        const pCrm = await byName(prod, "service", "crm");
        assert.notEqual(pCrm.id, (await byName(staging, "service", "crm")).id);
        const rows = pReader.role_service_access_by_role_id as Rec[];
        assert.ok(
          rows.some((r) =>
            r.service_id === pCrm.id && r.component === "_table/*" && r.verb_mask === 1
          ),
        );
        const mobile = await byName(prod, "app", "mobile");
        assert.equal(mobile.role_id, pReader.id);
        assert.equal(mobile.api_key, SECRETS.DF_APP_MOBILE_API_KEY);
        const limit = await byName(prod, "limit", "reader-hourly");
        assert.equal(limit.role_id, pReader.id);
        assert.equal((await byName(prod, "limit", "crm-daily")).service_id, pCrm.id);
        // The private role lookup got production's value, not staging's.
        const writer = await prod.request<Rec>(
          "GET",
          `system/role/${(await byName(prod, "role", "writer")).id}`,
          {
            query: { related: "lookup_by_role_id" },
          },
        );
        assert.equal((writer.lookup_by_role_id as Rec[]).length, 2);
      },
    );

    await t.step("re-planning is empty and re-applying makes zero writes", async () => {
      const again = await plan(prod, snap);
      assert.ok(isEmpty(again), renderDiffText(again));
      const r = await apply(prod, snap, { env: SECRETS });
      assert.equal(r.writeRequests, 0);
      // The already-applied plan is stale but its desired state is reached: a no-op, not an error.
      const r2 = await apply(prod, first, { env: SECRETS });
      assert.equal(r2.writeRequests, 0);
      assert.match(r2.note ?? "", /already matches/);
    });

    await t.step("a change in staging re-applies only that change", async () => {
      const reader = await byName(staging, "role", "reader", "role_service_access_by_role_id");
      const crmRow = (reader.role_service_access_by_role_id as Rec[]).find((r) =>
        r.component === "_table/*" && r.requestor_mask === 1
      )!;
      await staging.request("PATCH", `system/role/${reader.id}`, {
        body: {
          description: "read-only, reports too",
          role_service_access_by_role_id: [
            { id: crmRow.id, verb_mask: 1 | 16 },
            {
              service_id: (await byName(staging, "service", "crm")).id,
              component: "_schema/*",
              verb_mask: 1,
              requestor_mask: 1,
              filters: [],
              filter_op: "AND",
            },
          ],
        },
      });
      snap = await snapshot(staging);
      const p = await plan(prod, snap);
      const changed = p.changes.filter((c) => c.action !== "unchanged");
      assert.deepEqual(changed.map((c) => `${c.action} ${c.section}/${c.name}`), [
        "update roles/reader",
      ]);
      assert.deepEqual(changed[0].fields!.map((f) => f.path).sort(), [
        "access.crm:_schema/*",
        "access.crm:_table/*.verbs",
        "description",
      ]);
      const r = await apply(prod, p, { env: SECRETS });
      assert.equal(r.writeRequests, 1);
      assert.ok(isEmpty(await plan(prod, snap)));
      const rows = (await byName(prod, "role", "reader", "role_service_access_by_role_id"))
        .role_service_access_by_role_id as Rec[];
      assert.equal(rows.length, 3);
    });

    await t.step(
      "removed access rows and lookups are deleted; prune deletes unmanaged objects",
      async () => {
        const writer = await byName(
          staging,
          "role",
          "writer",
          "role_service_access_by_role_id,lookup_by_role_id",
        );
        const star = (writer.role_service_access_by_role_id as Rec[]).find((r) =>
          r.component === "*"
        )!;
        const region = (writer.lookup_by_role_id as Rec[]).find((l) => l.name === "region")!;
        await staging.request("PATCH", `system/role/${writer.id}`, {
          body: {
            role_service_access_by_role_id: [{ id: star.id, role_id: null }],
            lookup_by_role_id: [{ id: region.id, role_id: null }],
          },
        });
        snap = await snapshot(staging);
        const p = await plan(prod, snap, { prune: true });
        assert.deepEqual(
          p.changes.filter((c) => c.action !== "unchanged").map((c) =>
            `${c.action} ${c.section}/${c.name}`
          ).sort(),
          [
            "delete roles/legacy",
            "delete roles/legacy2",
            "delete services/old_db",
            "update roles/writer",
          ],
        );
        await apply(prod, p, { env: SECRETS });
        const w = await byName(
          prod,
          "role",
          "writer",
          "role_service_access_by_role_id,lookup_by_role_id",
        );
        assert.equal((w.role_service_access_by_role_id as Rec[]).length, 1);
        assert.deepEqual((w.lookup_by_role_id as Rec[]).map((l) => l.name), ["signing_secret"]);
        assert.equal(
          (await list(prod, "system/role", { filter: "name like 'legacy%'" })).length,
          0,
        );
        assert.ok(isEmpty(await plan(prod, snap, { prune: true })));
      },
    );

    await t.step(
      "drift: a production snapshot matches until someone edits production",
      async () => {
        const prodSnap = await snapshot(prod);
        assert.equal((await drift(prod, prodSnap)).drifted, false);
        const cors = (await list(prod, "system/cors"))[0];
        await prod.request("PATCH", `system/cors/${cors.id}`, { body: { origin: "*" } });
        const r = await drift(prod, prodSnap);
        assert.equal(r.drifted, true);
        const changed = r.diff.changes.filter((c) => c.action !== "unchanged");
        assert.deepEqual(changed.map((c) => `${c.section}/${c.name}`), ["cors/api/v2/*"]);
        assert.deepEqual(changed[0].fields, [{
          path: "origin",
          from: "https://app.example.com",
          to: "*",
        }]);
      },
    );

    await t.step("a plan made before the target changed is refused unless forced", async () => {
      const stale = await plan(prod, snap);
      await prod.request("POST", "system/lookup", {
        body: { resource: [{ name: "hotfix", value: "1" }] },
      });
      await assert.rejects(apply(prod, stale, { env: SECRETS }), StalePlanError);
      const r = await apply(prod, stale, { env: SECRETS, force: true });
      assert.ok(r.done.some((d) => d.section === "cors"));
      assert.ok(isEmpty(await plan(prod, snap)));
    });

    await t.step("a failure half-way reports what was done; re-running converges", async () => {
      await staging.request("POST", "system/role", {
        body: { resource: [{ name: "auditor", description: "audits", is_active: true }] },
      });
      const auditor = await byName(staging, "role", "auditor");
      await staging.request("POST", "system/app", {
        body: { resource: [{ name: "audit", type: 0, is_active: true, role_id: auditor.id }] },
      });
      await staging.request("POST", "system/limit", {
        body: {
          resource: [{
            name: "auditor-daily",
            type: "instance.role",
            role_id: auditor.id,
            rate: 10,
            period: "day",
          }],
        },
      });
      snap = await snapshot(staging);
      const env = { ...SECRETS, DF_APP_AUDIT_API_KEY: "e5".repeat(32) };
      const p = await plan(prod, snap);
      assert.equal(p.summary.create, 3);
      // Someone creates an app with the same name in production while the apply runs.
      let e: ApplyError | undefined;
      try {
        await apply(prod, p, {
          env,
          onProgress: async (x) => {
            if (x.section === "roles") {
              await prod.request("POST", "system/app", {
                body: { resource: [{ name: "audit", type: 0, is_active: false }] },
              });
            }
          },
        });
      } catch (err) {
        e = err as ApplyError;
      }
      assert.ok(e instanceof ApplyError, String(e));
      assert.deepEqual(e.report.done, [{ section: "roles", name: "auditor", action: "create" }]);
      assert.equal(e.report.failed?.name, "audit");
      assert.deepEqual(e.report.skipped, [{
        section: "limits",
        name: "auditor-daily",
        action: "create",
      }]);
      assert.match(e.message, /Done before the failure \(1\): create roles\/auditor/);
      // Re-run: the app now exists, so it is updated; the limit is created.
      const r = await apply(prod, snap, { env });
      assert.deepEqual(r.done.map((d) => `${d.action} ${d.section}/${d.name}`), [
        "update apps/audit",
        "create limits/auditor-daily",
      ]);
      assert.ok(isEmpty(await plan(prod, snap)));
      const app = await byName(prod, "app", "audit");
      assert.equal(app.role_id, (await byName(prod, "role", "auditor")).id);
      assert.equal(app.is_active, true);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
    await staging.logout().catch(() => {});
    await prod.logout().catch(() => {});
    await stagingSb.close();
    await prodSb.close();
  }
});

Deno.test("users (opt-in) keep their app roles; service config naming a role is remapped", async () => {
  await using sandboxes = await stagingAndProd();
  const { staging, prod } = sandboxes;
  await prod.request("POST", "system/role", {
    body: { resource: [{ name: "p1", is_active: true }, { name: "p2", is_active: true }] },
  });
  await staging.request("POST", "system/role", {
    body: { resource: [{ name: "member", is_active: true }] },
  });
  const member = await byName(staging, "role", "member");
  await staging.request("POST", "system/app", {
    body: { resource: [{ name: "portal", type: 0, is_active: true, role_id: member.id }] },
  });
  const portal = await byName(staging, "app", "portal");
  // Open registration gives new users the `member` role: the config holds the role's id.
  const userService = await byName(staging, "service", "user");
  await staging.request("PATCH", `system/service/${userService.id}`, {
    body: { config: { allow_open_registration: true, open_reg_role_id: member.id } },
  });
  await staging.request("POST", "system/user", {
    body: {
      resource: [{
        name: "Jo",
        email: "jo@example.com",
        first_name: "Jo",
        user_to_app_to_role_by_user_id: [{ app_id: portal.id, role_id: member.id }],
        lookup_by_user_id: [{ name: "tier", value: "gold", private: false }],
      }],
    },
  });
  await staging.request("POST", "system/user", {
    body: { resource: [{ name: "Gone", email: "gone@example.com" }] },
  });
  const gone = (await list(staging, "system/user", { filter: "email = 'gone@example.com'" }))[0];
  await staging.request("PATCH", `system/user/${gone.id}`, { body: { is_active: false } });
  const snap = await snapshot(staging, { users: true });
  assert.deepEqual(snap.objects.services!.user.config, {
    allow_open_registration: true,
    open_reg_role_id: { $ref: "role:member" },
  });
  const jo = snap.objects.users!["jo@example.com"];
  assert.deepEqual(jo.roles, { portal: "member" });
  assert.equal(jo.password, "env:DF_USER_JO_EXAMPLE_COM_PASSWORD?");

  // The password is optional: unset, the user is created without one.
  const r = await apply(prod, snap, { env: { DF_APP_PORTAL_API_KEY: "9".repeat(64) } });
  assert.ok(r.ok);
  const pMember = await byName(prod, "role", "member");
  assert.notEqual(pMember.id, member.id);
  const pService = await byName(prod, "service", "user");
  assert.equal((pService.config as Rec).open_reg_role_id, pMember.id);
  const users = await list(prod, "system/user", {
    filter: "email = 'jo@example.com'",
    related: "user_to_app_to_role_by_user_id,lookup_by_user_id",
  });
  const assignment = (users[0].user_to_app_to_role_by_user_id as Rec[])[0];
  // DreamFactory ignores is_active=false when creating users; apply sets it afterwards.
  const inactive = await list(prod, "system/user", { filter: "email = 'gone@example.com'" });
  assert.equal(inactive[0].is_active, false);
  assert.equal(assignment.role_id, pMember.id);
  assert.equal(assignment.app_id, (await byName(prod, "app", "portal")).id);
  assert.ok(isEmpty(await plan(prod, snap)), renderDiffText(await plan(prod, snap)));
});

Deno.test("secrets nested in service config become env: references and come back on apply", async () => {
  await using sandboxes = await stagingAndProd();
  const { staging, prod } = sandboxes;
  await staging.request("POST", "system/service", {
    body: {
      resource: [{
        name: "crm",
        type: "sqlite",
        config: {
          database: "crm.sqlite",
          options: { password: "NESTED-PW-123", timeout: 5 },
        },
      }],
    },
  });
  // {name, value} lists (a remote service's headers): the value of a secret-named entry.
  const userService = await byName(staging, "service", "user");
  await staging.request("PATCH", `system/service/${userService.id}`, {
    body: {
      config: {
        headers: [{ name: "X-Api-Key", value: "HDR-KEY-456" }, { name: "Accept", value: "a" }],
      },
    },
  });
  const snap = await snapshot(staging);
  const text = JSON.stringify(snap);
  for (const secret of ["NESTED-PW-123", "HDR-KEY-456"]) assert.ok(!text.includes(secret));
  const config = snap.objects.services!.crm.config as Rec;
  assert.deepEqual(config.options, {
    password: "env:DF_SERVICE_CRM_OPTIONS_PASSWORD",
    timeout: 5,
  });
  assert.deepEqual((snap.objects.services!.user.config as Rec).headers, [
    { name: "X-Api-Key", value: "env:DF_SERVICE_USER_HEADERS_X_API_KEY" },
    { name: "Accept", value: "a" },
  ]);
  const env = {
    DF_SERVICE_CRM_OPTIONS_PASSWORD: "prod-pw",
    DF_SERVICE_USER_HEADERS_X_API_KEY: "prod-key",
  };
  await assert.rejects(apply(prod, snap, { env: {} }), /DF_SERVICE_CRM_OPTIONS_PASSWORD/);
  assert.ok((await apply(prod, snap, { env })).ok);
  const crm = (await byName(prod, "service", "crm")).config as Rec;
  assert.deepEqual(crm.options, { password: "prod-pw", timeout: 5 });
  assert.deepEqual(((await byName(prod, "service", "user")).config as Rec).headers, [
    { name: "X-Api-Key", value: "prod-key" },
    { name: "Accept", value: "a" },
  ]);
  assert.ok(isEmpty(await plan(prod, snap)), renderDiffText(await plan(prod, snap)));
});

Deno.test("a service setting the source does not have is reset on the target, and plans settle", async () => {
  await using sandboxes = await stagingAndProd();
  const { staging, prod } = sandboxes;
  await staging.request("POST", "system/role", { body: { resource: [{ name: "signup" }] } });
  await prod.request("POST", "system/role", { body: { resource: [{ name: "signup" }] } });
  const signup = await byName(prod, "role", "signup");
  const userService = await byName(prod, "service", "user");
  await prod.request("PATCH", `system/service/${userService.id}`, {
    body: { config: { allow_open_registration: true, open_reg_role_id: signup.id } },
  });
  const snap = await snapshot(staging);
  const first = await plan(prod, snap);
  assert.ok(!isEmpty(first));
  assert.ok((await apply(prod, first)).ok);
  const config = (await byName(prod, "service", "user")).config as Rec;
  assert.equal(config.open_reg_role_id ?? null, null);
  assert.ok(isEmpty(await plan(prod, snap)), renderDiffText(await plan(prod, snap)));
});

Deno.test("a batch the server refuses as a whole names the record that failed", async () => {
  await using sandboxes = await stagingAndProd();
  const { staging, prod } = sandboxes;
  const [target] = await prod.system.role.create({ name: "r1", is_active: true });
  // DreamFactory refuses a second limit with the same parameters, for the whole batch.
  await prod.system.limit.create({
    name: "legacy",
    type: "instance.role",
    role_id: target.id,
    rate: 5,
    period: "hour",
  });
  const [role] = await staging.system.role.create({ name: "r1", is_active: true });
  await staging.system.limit.create([
    { name: "a", type: "instance", rate: 100, period: "hour" },
    { name: "b", type: "instance.role", role_id: role.id, rate: 10, period: "hour" },
    { name: "c", type: "instance", rate: 1000, period: "day" },
  ]);
  const snap = await snapshot(staging);
  const err = await apply(prod, snap).then(() => null, (e) => e);
  assert.ok(err instanceof ApplyError, String(err));
  assert.deepEqual(err.report.failed && [err.report.failed.section, err.report.failed.name], [
    "limits",
    "b",
  ]);
  assert.ok(err.report.done.some((d) => d.section === "limits" && d.name === "a"));
});

Deno.test("event scripts are upserted by name and pruned", async () => {
  const stagingSb = await startSandbox({ port: 0 });
  const prodSb = await startSandbox({ port: 0 });
  const staging = await connect({ url: stagingSb.url, ...stagingSb.admin });
  const prod = await connect({ url: prodSb.url, ...prodSb.admin });
  const event = "db._table.contact.get.pre_process";
  try {
    await staging.request("POST", `system/event_script/${event}`, {
      // DreamFactory's POST by name does not name the record: the body does.
      body: {
        name: event,
        type: "nodejs",
        content: "event.request.parameters.limit = 10;",
        is_active: true,
      },
    });
    const snap = await snapshot(staging, { sections: ["event_scripts"] });
    assert.equal(snap.objects.event_scripts![event].type, "nodejs");
    const r = await apply(prod, snap);
    assert.deepEqual(r.done, [{ section: "event_scripts", name: event, action: "create" }]);
    assert.ok(isEmpty(await plan(prod, snap)));
    await staging.request("POST", `system/event_script/${event}`, {
      body: { type: "nodejs", content: "// changed", is_active: true },
    });
    const changed = await snapshot(staging, { sections: ["event_scripts"] });
    const p = await plan(prod, changed);
    assert.deepEqual(p.changes.map((c) => [c.action, c.fields?.map((f) => f.path)]), [
      ["update", ["content"]],
    ]);
    await apply(prod, p);
    const live = await prod.request<Rec>("GET", `system/event_script/${event}`);
    assert.equal(live.content, "// changed");
    const empty = { ...changed, objects: { event_scripts: {} } };
    const gone = await apply(prod, empty, { prune: true });
    assert.deepEqual(gone.done, [{ section: "event_scripts", name: event, action: "delete" }]);
    assert.equal((await list(prod, "system/event_script")).length, 0);
  } finally {
    await staging.logout().catch(() => {});
    await prod.logout().catch(() => {});
    await stagingSb.close();
    await prodSb.close();
  }
});

Deno.test("users match by e-mail without letter case: an update, never a second user", async () => {
  await using sandboxes = await stagingAndProd();
  const { staging, prod } = sandboxes;
  await staging.request("POST", "system/user", {
    body: { resource: [{ name: "Carol", email: "Carol@Acme.test" }] },
  });
  const carol = (await list(staging, "system/user", { filter: "email = 'Carol@Acme.test'" }))[0];
  await staging.request("POST", "system/limit", {
    body: {
      resource: [{
        name: "carol-per-minute",
        type: "instance.user",
        user_id: carol.id,
        rate: 10,
        period: "minute",
      }],
    },
  });
  await prod.request("POST", "system/user", {
    body: { resource: [{ name: "carol", email: "carol@acme.test" }] },
  });
  const snap = await snapshot(staging, { users: true });
  const p = await plan(prod, snap);
  const users = p.changes.filter((c) => c.section === "users" && c.action !== "unchanged");
  // Shown under the target's own spelling of the e-mail.
  assert.deepEqual(users.map((c) => `${c.action} ${c.name}`), ["update carol@acme.test"]);
  const r = await apply(prod, snap, {});
  assert.ok(r.ok);
  const same = (await list(prod, "system/user", { fields: "id,email" }))
    .filter((u) => String(u.email).toLowerCase() === "carol@acme.test");
  assert.equal(same.length, 1);
  // The limit naming Carol@Acme.test points at the target's carol@acme.test.
  assert.equal((await byName(prod, "limit", "carol-per-minute")).user_id, same[0].id);
  assert.ok(isEmpty(await plan(prod, snap)), renderDiffText(await plan(prod, snap)));
});

Deno.test("values the target stores trimmed or as null (DreamFactory 7) plan once, then settle", async () => {
  await using sandboxes = await stagingAndProd();
  const { staging, prod } = sandboxes;
  await staging.request("POST", "system/role", {
    body: {
      resource: [{
        name: "support",
        description: "tier 1",
        is_active: true,
        role_service_access_by_role_id: [{
          service_id: 2,
          component: "_table/*",
          verb_mask: 1,
          requestor_mask: 1,
          filters: [{ name: "owner", operator: "=", value: "x" }],
          filter_op: "AND",
        }],
      }],
    },
  });
  await staging.request("POST", "system/role", {
    body: { resource: [{ name: "padded", description: "p", is_active: true }] },
  });
  const snap = await snapshot(staging);
  // As a snapshot of an older DreamFactory (or a hand edit) has them: "" where DF 7 keeps null,
  // padding DF 7 trims, also inside arrays (a row filter's value).
  const roles = snap.objects.roles as Record<string, Rec>;
  const access = roles.support.access as Record<string, Rec>;
  const [row] = Object.values(access);
  (row.filters as Rec[])[0].value = "";
  roles.support = { ...roles.support, description: "" };
  roles.padded = { ...roles.padded, description: " padded " };
  assert.ok((await apply(prod, await plan(prod, snap))).ok);
  assert.equal((await byName(prod, "role", "support")).description, null);
  assert.equal((await byName(prod, "role", "padded")).description, "padded");
  const again = await plan(prod, snap);
  assert.ok(isEmpty(again), renderDiffText(again));
});
