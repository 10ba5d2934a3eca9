/**
 * File errors as one sentence that names the file and what is wrong with it, instead of the
 * operating system's text (`No such file or directory (os error 2): writefile '...'`).
 *
 * @module
 */
import { jsonErrorAt } from "./json.ts";

/** The folder a path is in (`.` for a bare file name). */
function folderOf(path: string): string {
  const at = path.replace(/\/+$/, "").lastIndexOf("/");
  return at < 0 ? "." : at === 0 ? "/" : path.slice(0, at);
}

/**
 * An error saying why `path` (described as `what`, e.g. "snapshot") could not be read or
 * written: "snapshot x.json: the folder /nonexistent does not exist (create it first)". Deno's
 * own permission errors are kept: they already say which flag to add.
 */
export function fileError(
  e: unknown,
  path: string,
  action: "read" | "write",
  what = "file",
): Error {
  if (e instanceof Deno.errors.NotCapable) return e;
  const named = `${what} ${path}`;
  if (e instanceof Deno.errors.NotFound) {
    return new Error(
      action === "read"
        ? `${named} does not exist`
        : `cannot write ${named}: the folder ${folderOf(path)} does not exist (create it first)`,
    );
  }
  const reason = e instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : e instanceof Deno.errors.IsADirectory
    ? "it is a folder"
    : e instanceof Deno.errors.NotADirectory
    ? "a part of the path is a file, not a folder"
    : String((e as Error)?.message ?? e).replace(/ \(os error \d+\).*$/s, "");
  return new Error(`cannot ${action} ${named}: ${reason}`);
}

/** Writes a text file; a failure is a {@linkcode fileError} naming it. */
export async function writeTextFileNamed(
  path: string,
  text: string,
  what = "file",
  options?: Deno.WriteFileOptions,
): Promise<void> {
  try {
    await Deno.writeTextFile(path, text, options);
  } catch (e) {
    throw fileError(e, path, "write", what);
  }
}

/**
 * Creates a folder and the folders it is in (as `mkdir -p`); a failure is a
 * {@linkcode fileError} naming it, and a file already at `path` says so.
 */
export async function mkdirNamed(path: string, what = "folder"): Promise<void> {
  try {
    await Deno.mkdir(path, { recursive: true });
  } catch (e) {
    // With `recursive`, "already exists" only means something other than a folder is there.
    if (e instanceof Deno.errors.AlreadyExists) {
      throw new Error(`cannot create ${what} ${path}: a file of that name is in the way`);
    }
    throw fileError(e, path, "write", what);
  }
}

/** A JSON file's content, with errors that name the file (and where its JSON breaks). */
export async function readJsonFile(path: string, what = "file"): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    // One sentence naming the file ("cannot read plan /tmp: it is a folder"), not the OS text.
    throw fileError(e, path, "read", what);
  }
  try {
    return JSON.parse(text);
  } catch {
    const reason = text.trim() === "" ? "it is empty" : jsonErrorAt(text);
    throw new Error(`${what} ${path} is not valid JSON: ${reason}`);
  }
}
