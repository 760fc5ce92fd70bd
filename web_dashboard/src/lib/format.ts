const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Unix seconds as a local date and time. */
export function formatUnix(seconds: number): string {
  return DATE_TIME.format(new Date(seconds * 1000));
}

/** A time in the call as m:ss (0:08, 12:40). */
export function formatClock(seconds: number): string {
  const whole = Math.max(0, Math.floor(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}
