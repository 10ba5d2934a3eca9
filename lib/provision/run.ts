/**
 * Runs a recipe as named steps and, when one fails, undoes what the earlier steps did (newest
 * first), so a failed call leaves the server as it found it.
 *
 * @module
 */
import { DreamFactoryError } from "../errors.ts";
import { maskApiKey, scrubError } from "./secret.ts";

/**
 * A provisioning call that failed at `step` after changing nothing, or after its own changes were
 * undone (`undone`). When an undo failed too, `undoFailures` says what is left behind.
 */
export class ProvisionError extends Error {
  /** The customer's key. */
  readonly key: string;
  /** The step that failed, e.g. `"create limit"`. */
  readonly step: string;
  /** What was undone, newest first (e.g. `"deleted app customer-acme-42"`). */
  readonly undone: string[];
  /** Undo steps that failed, with their reason: these changes are still on the server. */
  readonly undoFailures: string[];

  /**
   * Builds the error; `cause` must already be free of secrets. `advice` says how to finish or
   * reverse what an undo failed to, for the recipe that failed (default: run it again).
   */
  constructor(
    init: {
      key: string;
      step: string;
      cause: unknown;
      undone: string[];
      undoFailures: string[];
      advice?: string;
    },
  ) {
    const reason = describe(init.cause);
    let message = `customer "${init.key}": step "${init.step}" failed: ${reason}`;
    if (init.undone.length > 0) {
      message = `${message.replace(/\.$/, "")}. Undone: ${init.undone.join(", ")}`;
    }
    if (init.undoFailures.length > 0) {
      // The advice depends on the recipe: after a failed suspend, "run deprovisionCustomer" would
      // delete a live customer.
      message += `. NOT undone (${init.advice ?? "run the same call again to finish"}): ${
        init.undoFailures.join("; ")
      }`;
    } else if (init.undone.length === 0) {
      message += ". Nothing had been changed";
    }
    super(message, { cause: init.cause });
    this.name = "ProvisionError";
    this.key = init.key;
    this.step = init.step;
    this.undone = init.undone;
    this.undoFailures = init.undoFailures;
  }
}

/** One line for an error: DreamFactory's status, call and message, or the error's message. */
function describe(e: unknown): string {
  if (e instanceof DreamFactoryError) return e.summary;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Steps of one recipe call: what was changed, how to undo it, and the secrets to keep quiet. */
export class StepRunner {
  readonly #key: string;
  readonly #advice: string | undefined;
  readonly #undo: { label: string; run: () => Promise<unknown> }[] = [];
  readonly #secrets: string[] = [];
  /** Human-readable list of the changes made, in order. */
  readonly changes: string[] = [];
  /** What the caller should know that is not a change (records another call created, ...). */
  readonly notes: string[] = [];

  /** `advice`: what to do when an undo fails, for {@linkcode ProvisionError}. */
  constructor(key: string, advice?: string) {
    this.#key = key;
    this.#advice = advice;
  }

  /** Registers a secret (an API key) that must never appear in an error. */
  secret(value: string | undefined | null): void {
    if (value) this.#secrets.push(value);
  }

  /** Masks registered secrets in a text. */
  mask(text: string): string {
    return this.#secrets.reduce((t, s) => t.split(s).join(maskApiKey(s)), text);
  }

  /**
   * Runs one step. `change` describes it for the change list; `undo` (registered only when the
   * step succeeded) reverses it. A failure undoes every earlier step and throws a
   * {@linkcode ProvisionError}.
   */
  async step<T>(
    name: string,
    run: () => Promise<T>,
    undo?: { label: string; run: (result: T) => Promise<unknown> },
  ): Promise<T> {
    const result = await this.attempt(name, run);
    this.done(name, undo && { label: undo.label, run: () => undo.run(result) });
    return result;
  }

  /**
   * Runs a step without recording it as a change (a read, or a write whose outcome decides
   * whether it was a change): a failure throws a {@linkcode ProvisionError} after undoing.
   */
  async attempt<T>(name: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      throw await this.fail(name, e);
    }
  }

  /** Runs a read-only step: a failure throws a {@linkcode ProvisionError} after undoing. */
  read<T>(name: string, run: () => Promise<T>): Promise<T> {
    return this.attempt(name, run);
  }

  /**
   * Runs a read (or a bookkeeping write) that is no reason to undo (the writes are done and
   * right): a failure becomes a note (`"<name> failed (<reason>); <fallback>"`, secrets masked) and the value `undefined`.
   */
  async readOrNote<T>(
    name: string,
    run: () => Promise<T>,
    fallback: string,
  ): Promise<T | undefined> {
    try {
      return await run();
    } catch (e) {
      this.notes.push(`${name} failed (${describe(scrubError(e, this.#secrets))}); ${fallback}`);
      return undefined;
    }
  }

  /** Records a change this call made, and how to undo it. */
  done(name: string, undo?: { label: string; run: () => Promise<unknown> }): void {
    this.changes.push(name);
    if (undo) this.#undo.push(undo);
  }

  /** Undoes everything done so far and builds the error for the failed step. */
  async fail(step: string, cause: unknown): Promise<ProvisionError> {
    const undone: string[] = [];
    const undoFailures: string[] = [];
    for (const u of this.#undo.reverse()) {
      try {
        await u.run();
        undone.push(u.label);
      } catch (e) {
        scrubError(e, this.#secrets);
        undoFailures.push(`${u.label}: ${describe(e)}`);
      }
    }
    this.#undo.length = 0;
    return new ProvisionError({
      key: this.#key,
      step,
      cause: scrubError(cause, this.#secrets),
      undone,
      undoFailures,
      advice: this.#advice,
    });
  }
}
