const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** Unix seconds as a local date and time. */
export function formatUnix(seconds: number): string {
  return DATE_TIME.format(new Date(seconds * 1000));
}
