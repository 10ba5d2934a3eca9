/**
 * Reading a HAR document defensively: every problem is reported with the entry index and the
 * field at fault, before any code is generated.
 *
 * @module
 */

import { jsonErrorAt } from "../json.ts";

/**
 * A HAR file that cannot be converted; the message names the entry (`#N` is `log.entries[N]`,
 * counted from 0) and the field at fault.
 *
 * @example
 * ```ts
 * import { fromHar, HarError } from "@dfkit/dfkit";
 * try {
 *   fromHar({ log: { entries: [{}] } });
 * } catch (err) {
 *   if (err instanceof HarError) console.error(err.message, err.entry); // HAR entry #0: ...
 * }
 * ```
 */
export class HarError extends Error {
  /** Index of the offending entry in `log.entries`, when one is at fault. */
  readonly entry?: number;
  /** Creates the error. */
  constructor(message: string, entry?: number) {
    super(entry === undefined ? message : `HAR entry #${entry}: ${message}`);
    this.name = "HarError";
    this.entry = entry;
  }
}

/** The fields of one entry the converter relies on, checked and normalised. */
export interface CheckedEntry {
  /** Index in `log.entries`. */
  index: number;
  /** HTTP method as sent on the wire (upper case). */
  method: string;
  /** Parsed URL. */
  url: URL;
  /** Request headers, names lower-cased. */
  headers: Map<string, string>;
  /** Request body text, if any. */
  body?: string;
  /** The body's media type as recorded (`postData.mimeType`), if any. */
  bodyType?: string;
  /** Response status (0 when unknown). */
  status: number;
  /** Response body text, if recorded. */
  responseBody?: string;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function pairs(value: unknown, where: string, index: number): [string, string][] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new HarError(`${where} must be an array of {name, value}`, index);
  }
  return value.map((h, i) => {
    if (!isObject(h) || typeof h.name !== "string") {
      throw new HarError(`${where}[${i}] must be an object with a string "name"`, index);
    }
    return [h.name, h.value === undefined || h.value === null ? "" : String(h.value)];
  });
}

/**
 * Parses (if text) and checks a HAR document; returns its entries in a normalised form.
 * Throws {@linkcode HarError} naming the entry index and the field that is wrong.
 */
export function checkHar(input: unknown): CheckedEntry[] {
  let doc = input;
  if (typeof input === "string") {
    // Some tools save with a UTF-8 byte order mark, which JSON.parse refuses.
    const text = input.startsWith("\uFEFF") ? input.slice(1) : input;
    try {
      doc = JSON.parse(text);
    } catch {
      // The parser's message may quote the text around the mistake: a token, a password.
      throw new HarError(`not JSON (at ${jsonErrorAt(text)})`);
    }
  }
  if (!isObject(doc) || !isObject(doc.log)) {
    throw new HarError(`not a HAR document: expected an object with a "log" object`);
  }
  const entries = doc.log.entries;
  if (!Array.isArray(entries)) throw new HarError(`log.entries must be an array`);
  return entries.map((e, index) => {
    if (!isObject(e)) throw new HarError(`must be an object`, index);
    const req = e.request;
    if (!isObject(req)) throw new HarError(`"request" is missing or not an object`, index);
    if (typeof req.method !== "string" || !/^[A-Za-z]+$/.test(req.method)) {
      throw new HarError(`request.method is missing or not an HTTP method`, index);
    }
    if (typeof req.url !== "string") throw new HarError(`request.url is missing`, index);
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new HarError(`request.url ${JSON.stringify(req.url)} is not an absolute URL`, index);
    }
    const headers = new Map(
      pairs(req.headers, "request.headers", index).map(([k, v]) => [k.toLowerCase(), v]),
    );
    let body: string | undefined;
    let bodyType: string | undefined;
    if (req.postData !== undefined) {
      if (!isObject(req.postData)) throw new HarError(`request.postData must be an object`, index);
      const text = req.postData.text;
      if (text !== undefined && typeof text !== "string") {
        throw new HarError(`request.postData.text must be a string`, index);
      }
      body = text;
      if (typeof req.postData.mimeType === "string") bodyType = req.postData.mimeType;
    }
    let status = 0;
    let responseBody: string | undefined;
    if (e.response !== undefined) {
      if (!isObject(e.response)) throw new HarError(`"response" must be an object`, index);
      const st = e.response.status;
      if (st !== undefined && typeof st !== "number") {
        throw new HarError(`response.status must be a number`, index);
      }
      status = st ?? 0;
      const content = e.response.content;
      if (isObject(content) && typeof content.text === "string") {
        responseBody = content.encoding === "base64"
          ? new TextDecoder().decode(Uint8Array.from(atob(content.text), (ch) => ch.charCodeAt(0)))
          : content.text;
      }
    }
    return {
      index,
      method: req.method.toUpperCase(),
      url,
      headers,
      body,
      bodyType,
      status,
      responseBody,
    };
  });
}
