/**
 * HAR support: turn a browser recording of DreamFactory's admin console into a dfkit script
 * ({@linkcode fromHar}), and record what a dfkit session does as a redacted HAR
 * ({@linkcode recordHar}) for support and bug reports.
 *
 * @module
 */
export { fromHar, type FromHarOptions } from "./convert.ts";
export { exchangeToHarEntry, type HarRecorder, recordHar } from "./record.ts";
export { HarError } from "./validate.ts";
export type { Har, HarEntry, HarNameValue, HarRequest, HarResponse } from "./types.ts";
