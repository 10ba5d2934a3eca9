/**
 * The parts of HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) dfkit reads and writes.
 *
 * @module
 */

/** A name/value pair (headers, query string, cookies). */
export interface HarNameValue {
  /** Name. */
  name: string;
  /** Value. */
  value: string;
}

/** A recorded request. */
export interface HarRequest {
  /** HTTP method. */
  method: string;
  /** Absolute URL. */
  url: string;
  /** e.g. `HTTP/1.1`. */
  httpVersion: string;
  /** Request headers. */
  headers: HarNameValue[];
  /** Parsed query string. */
  queryString: HarNameValue[];
  /** Cookies. */
  cookies: HarNameValue[];
  /** Body, when there is one. */
  postData?: { mimeType: string; text: string };
  /** -1 when unknown. */
  headersSize: number;
  /** -1 when unknown. */
  bodySize: number;
}

/** A recorded response. */
export interface HarResponse {
  /** HTTP status (0 when no response arrived). */
  status: number;
  /** Status text. */
  statusText: string;
  /** e.g. `HTTP/1.1`. */
  httpVersion: string;
  /** Response headers. */
  headers: HarNameValue[];
  /** Cookies. */
  cookies: HarNameValue[];
  /** Body. */
  content: { size: number; mimeType: string; text?: string };
  /** Location header value, or "". */
  redirectURL: string;
  /** -1 when unknown. */
  headersSize: number;
  /** -1 when unknown. */
  bodySize: number;
}

/** One request/response pair. */
export interface HarEntry {
  /** ISO 8601 start time. */
  startedDateTime: string;
  /** Total milliseconds. */
  time: number;
  /** The request. */
  request: HarRequest;
  /** The response. */
  response: HarResponse;
  /** Cache info (always empty here). */
  cache: Record<string, never>;
  /** Phase durations in ms. */
  timings: { send: number; wait: number; receive: number };
  /** Error text when no response arrived (a custom field; HAR allows `_`-prefixed ones). */
  _error?: string;
}

/** A HAR document. */
export interface Har {
  /** The log. */
  log: {
    /** Always `1.2`. */
    version: string;
    /** The tool that wrote it. */
    creator: { name: string; version: string };
    /** Entries in order. */
    entries: HarEntry[];
  };
}
