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
  /**
   * Word the diff as drift (a diff from a snapshot to the live instance, as `drift()` returns):
   * what the instance has that the snapshot lacks, lacks, or has changed, rather than actions
   * to take (a plan, which goes the other way, would create what the instance is missing).
   */
  drift?: boolean;
}

/** What each kind of change means in a drift (snapshot -> live instance). */
const DRIFT = {
  create: "only on the instance",
  update: "changed on the instance",
  delete: "missing on the instance",
  unchanged: "unchanged",
} as const;

function summaryText(d: Diff, drift: boolean | undefined): string {
  const s = d.summary;
  return drift
    ? `${s.delete} ${DRIFT.delete}, ${s.create} ${DRIFT.create}, ${s.update} ${DRIFT.update}, ` +
      `${s.unchanged} unchanged`
    : `${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.unchanged} unchanged`;
}

/**
 * A diff or plan as text: one line per object (`+` create, `~` update with its changed fields,
 * `-` delete) and a summary line. With `drift`, each line says what differs on the instance
 * (`- roles/r1  (missing on the instance)`), and so does the summary.
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
    const note = options.drift && c.action !== "unchanged" ? `  (${DRIFT[c.action]})` : "";
    lines.push(`  ${SIGN[c.action]} ${c.section}/${c.name}${note}`);
    for (const f of c.fields ?? []) lines.push(`      ${fieldLine(f)}`);
  }
  if (!d.changes.some((c) => c.action !== "unchanged")) lines.push("  No changes.");
  lines.push(`${summaryText(d, options.drift)}.`);
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
      const action = options.drift ? DRIFT[c.action] : c.action;
      return `<tr><td style="color:${COLOR[c.action]};font-weight:bold">${action}</td>` +
        `<td>${esc(c.section)}</td><td>${esc(c.name)}</td>` +
        `<td style="font-family:monospace;text-align:left">${fields}</td></tr>`;
    }).join("");
  const head = isPlan(d)
    ? `<div>Plan for <code>${esc(d.target)}</code> (state <code>${
      esc(d.fingerprint.slice(0, 12))
    }</code>, prune ${d.prune ? "on" : "off"})</div>`
    : "";
  return `${head}<table><thead><tr><th>action</th><th>section</th><th>name</th>` +
    `<th>changed fields</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<div>${esc(summaryText(d, options.drift))}</div>`;
}

/**
 * Gives a diff or plan its Jupyter and terminal renderings, as non-enumerable symbol properties
 * (so `JSON.stringify` still yields the plain document). `options` (e.g. `drift`) shape both;
 * attaching again replaces them.
 */
export function attachDisplay<T extends Diff>(d: T, options: DiffRenderOptions = {}): T {
  Object.defineProperty(d, Symbol.for("Jupyter.display"), {
    value: () => ({
      "text/html": renderDiffHtml(d, options),
      "text/plain": renderDiffText(d, options),
    }),
    enumerable: false,
    configurable: true,
  });
  Object.defineProperty(d, Symbol.for("Deno.customInspect"), {
    value: () => renderDiffText(d, options),
    enumerable: false,
    configurable: true,
  });
  return d;
}
