/** Checks of a project's settings, made where a setting arrives and where it is stored. */
import { fail, succeed, type Outcome } from "../outcome.ts";
import { MAX_RETENTION } from "./limits.ts";

/** Checks a retention setting. */
export function checkRetention(value: number): Outcome<number> {
  if (!Number.isInteger(value) || value < 1 || value > MAX_RETENTION) {
    return fail("bad_request", `retention: must be a whole number from 1 to ${MAX_RETENTION}`, { field: "retention" });
  }
  return succeed(value);
}
