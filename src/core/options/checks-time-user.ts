/**
 * --creation-time and --build-user: numbers that reach a program that reads them its own way (the lifecycle's
 * SOURCE_DATE_EPOCH, Go's RFC 3339 dates; Kubernetes' runAsUser/runAsGroup, `id`, chown). Only the plain decimal form
 * passes: no sign, no leading zero (some readers take 0100 as octal, 64), no blank, no exponent, ASCII digits only.
 */
import { PacklineError, quote } from "../errors.js";
import type { CreationTime } from "../plan/types.js";

/**
 * The last second an image's creation time can hold: the config's `created` is RFC 3339, a four-digit year (Go's
 * encoder, the lifecycle's and crane's, refuses a later one), so 9999-12-31T23:59:59Z.
 * From 0 (1970-01-01T00:00:00Z, the lifecycle takes it as given: SOURCE_DATE_EPOCH=0 is a date, not "unset") to
 * here, any time is taken as the user's: packline does not compare it with the clock, so the same options give the
 * same plan on every day, and a fixed date in the future is the user's choice to make.
 */
export const MAX_CREATION_SECONDS = 253_402_300_799;
const CREATION_FIX =
  "use now, commit (the source commit's time), or unix seconds such as 1700000000; leave it out for the reproducible default (1980-01-01T00:00:01Z)";

/** A long value is shown by its start: a message is read, not scrolled. */
function shown(value: string): string {
  return quote(value.length > 40 ? `${value.slice(0, 40)}...` : value);
}

export function parseCreationTime(value: string): CreationTime {
  if (value === "default") return { kind: "default" };
  if (value === "now") return { kind: "now" };
  if (value === "commit") return { kind: "commit" };
  const bad = (why: string) => new PacklineError(`--creation-time ${shown(value)} ${why}`);
  if (/^-[0-9]+$/.test(value)) throw bad(`is before 1970-01-01T00:00:00Z: unix seconds start at 0; ${CREATION_FIX}.`);
  if (!/^[0-9]+$/.test(value)) throw bad(`is not understood: ${CREATION_FIX}.`);
  if (value.length > 1 && value.startsWith("0")) {
    throw bad(
      `has a leading zero, which some readers take for octal: give the seconds as a plain number, e.g. ${quote(value.replace(/^0+(?=.)/, ""))}.`,
    );
  }
  const seconds = Number(value);
  if (!Number.isSafeInteger(seconds) || seconds > MAX_CREATION_SECONDS) {
    const millis = value.length >= 13 && value.length <= 15 ? ` It looks like milliseconds: give seconds, e.g. ${value.slice(0, -3)}.` : "";
    throw bad(
      `is after 9999-12-31T23:59:59Z (${MAX_CREATION_SECONDS}), the last time an image's creation time (RFC 3339, four-digit year) can hold.${millis}`,
    );
  }
  return { kind: "unix", seconds };
}

/**
 * uid:gid of the builder's CNB user, for the build pod's security context. uid 0 is refused (the restricted pod
 * standard forbids runAsUser 0). gid 0, the root group, is accepted: the standard allows it (runAsGroup and fsGroup
 * are not restricted), it grants nothing beyond the files group 0 may use, and a builder whose CNB_GROUP_ID is 0
 * (an image made for arbitrary uids in group 0, as OpenShift runs them) needs exactly it; when packline reads the
 * user from the builder (no --build-user) it takes such a group too.
 */
export function parseBuildUser(value: string): { uid: number; gid: number } {
  const example = "e.g. 1001:1000 (paketobuildpacks/builder-jammy-base's CNB user)";
  const match = /^([0-9]+):([0-9]+)$/.exec(value);
  if (!match) throw new PacklineError(`--build-user ${shown(value)} is not uid:gid: ${example}.`);
  const [uidText, gidText] = [match[1]!, match[2]!];
  for (const [what, text] of [
    ["uid", uidText],
    ["gid", gidText],
  ] as const) {
    if (text.length > 1 && text.startsWith("0")) {
      throw new PacklineError(
        `--build-user ${shown(value)}: the ${what} ${text} has a leading zero, which some readers take for octal: give plain numbers, e.g. ${Number(uidText)}:${Number(gidText)}.`,
      );
    }
    // Linux ids are 32-bit, and 4294967295 is (uid_t)-1, "no id" to chown and setresuid.
    if (text.length > 10 || Number(text) > 4_294_967_294) {
      throw new PacklineError(
        `--build-user ${shown(value)}: the ${what} ${text.length > 12 ? `${text.slice(0, 12)}...` : text} is above 4294967294, the highest id Linux has: ${example}.`,
      );
    }
  }
  const uid = Number(uidText);
  if (uid === 0) {
    throw new PacklineError(
      "--build-user 0:... is root, which the restricted pod standard forbids: give the builder's CNB user (its CNB_USER_ID:CNB_GROUP_ID), or leave the option out to read it from the builder.",
    );
  }
  return { uid, gid: Number(gidText) };
}
