/**
 * Renderings of diffs and plans: Terraform-style text for terminals and CI logs, and an HTML
 * table for Jupyter (`Symbol.for("Jupyter.display")`). JSON is the documents themselves.
 *
 * @module
 */
import type { Change, Diff, FieldChange, Json, Plan } from "./types.ts";

const SIGN = { create: "+", update: "~", delete: "-", unchanged: " " } as const;

function show(v: Json | undefined): string {
  if (v === undefined) return "(absent)";
  const s = JSON.stringify(v);
  return s.length > 100 ? s.slice(0, 97) + "..." : s;
}

function fieldLine(f: FieldChange): string {
  if (f.from === undefined) return `${f.path}: + ${show(f.to)}`;
  if (f.to === undefined) return `${f.path}: - ${show(f.from)}`;
  return `${f.path}: ${show(f.from)} -> ${show(f.to)}`;
}

function isPlan(d: Diff): d is Plan {
  return typeof (d as Plan).fingerprint === "string";
}

/** Options of {@linkcode renderDiffText}. */
export interface DiffRenderOptions {
  /** Also list unchanged objects. */
  all?: boolean;
}

/**
 * A diff or plan as text: one line per object (`+` create, `~` update with its changed fields,
 * `-` delete) and a summary line.
 */
export function renderDiffText(d: Diff, options: DiffRenderOptions = {}): string {
  const lines: string[] = [];
  if (isPlan(d)) {
    lines.push(
      `Plan for ${d.target} (state ${d.fingerprint.slice(0, 12)}, prune ${d.prune ? "on" : "off"})`,
    );
  }
  for (const c of d.changes) {
    if (c.action === "unchanged" && !options.all) continue;
    lines.push(`  ${SIGN[c.action]} ${c.section}/${c.name}`);
    for (const f of c.fields ?? []) lines.push(`      ${fieldLine(f)}`);
  }
  const s = d.summary;
  if (!d.changes.some((c) => c.action !== "unchanged")) lines.push("  No changes.");
  lines.push(
    `${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.unchanged} unchanged.`,
  );
  if (isPlan(d) && d.unmanaged.length) {
    lines.push(
      `${d.unmanaged.length} object(s) only in the target, kept (use prune to delete): ` +
        d.unmanaged.join(", "),
    );
  }
  return lines.join("\n");
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const COLOR = { create: "#1a7f37", update: "#9a6700", delete: "#cf222e", unchanged: "#57606a" };

/** A diff or plan as an HTML table (used by Jupyter). */
export function renderDiffHtml(d: Diff, options: DiffRenderOptions = {}): string {
  const rows = d.changes
    .filter((c: Change) => c.action !== "unchanged" || options.all)
    .map((c) => {
      const fields = (c.fields ?? []).map((f) => esc(fieldLine(f))).join("<br>");
      return `<tr><td style="color:${COLOR[c.action]};font-weight:bold">${c.action}</td>` +
        `<td>${esc(c.section)}</td><td>${esc(c.name)}</td>` +
        `<td style="font-family:monospace;text-align:left">${fields}</td></tr>`;
    }).join("");
  const s = d.summary;
  const head = isPlan(d)
    ? `<div>Plan for <code>${esc(d.target)}</code> (state <code>${
      esc(d.fingerprint.slice(0, 12))
    }</code>, prune ${d.prune ? "on" : "off"})</div>`
    : "";
  return `${head}<table><thead><tr><th>action</th><th>section</th><th>name</th>` +
    `<th>changed fields</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<div>${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.unchanged} unchanged</div>`;
}

/**
 * Gives a diff or plan its Jupyter and terminal renderings, as non-enumerable symbol properties
 * (so `JSON.stringify` still yields the plain document).
 */
export function attachDisplay<T extends Diff>(d: T): T {
  Object.defineProperty(d, Symbol.for("Jupyter.display"), {
    value: () => ({ "text/html": renderDiffHtml(d), "text/plain": renderDiffText(d) }),
    enumerable: false,
  });
  Object.defineProperty(d, Symbol.for("Deno.customInspect"), {
    value: () => renderDiffText(d),
    enumerable: false,
  });
  return d;
}
