import { useQuery } from "@tanstack/react-query";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { api, unwrap } from "@/api/client";
import { fakeApi, renderWithClient } from "@/test/render";

import { ConfirmRemoval, useRemoval } from "./parts";

afterEach(() => vi.unstubAllGlobals());

const KEY = ["settings", "do-not-call"] as const;

/** A list whose rows are removed through the one confirmation every section uses. */
function Numbers() {
  const list = useQuery({ queryKey: KEY, queryFn: () => unwrap(api.GET("/v1/do-not-call")) });
  const remove = useRemoval<string>({
    remove: (number) => unwrap(api.DELETE("/v1/do-not-call/{phone_number}", { params: { path: { phone_number: number } } })),
    invalidates: KEY,
  });
  return (
    <>
      {(list.data ?? []).map((entry) => (
        <button key={entry.phone_number} type="button" onClick={() => remove.ask(entry.phone_number)}>
          Remove {entry.phone_number}
        </button>
      ))}
      <ConfirmRemoval removal={remove} title={(number) => `Remove ${number}?`} description="Campaigns may dial it again." confirmLabel="Remove number" />
    </>
  );
}

describe("confirming a removal", () => {
  it("asks first, shows the API's refusal in the question, forgets it on Cancel, then removes and reads the list again", async () => {
    let refuse = true;
    let listed = ["+15550001111"];
    const requests = fakeApi({
      "GET /v1/do-not-call": () => ({ body: listed.map((phone_number) => ({ phone_number, note: "", created_at_unix: 1764979200 })) }),
      "DELETE /v1/do-not-call/%2B15550001111": () => {
        if (refuse) return { status: 409, body: { detail: { status: "busy", message: "a campaign is dialing it now" } } };
        listed = [];
        return { status: 204 };
      },
    });
    renderWithClient(<Numbers />);

    await userEvent.click(await screen.findByRole("button", { name: "Remove +15550001111" }));
    const question = screen.getByRole("alertdialog", { name: "Remove +15550001111?" });
    expect(requests.filter((r) => r.method === "DELETE")).toHaveLength(0);
    await userEvent.click(within(question).getByRole("button", { name: "Remove number" }));
    expect(await within(question).findByRole("alert")).toHaveTextContent(/campaign is dialing it now/i);

    await userEvent.click(within(question).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument());
    refuse = false;
    await userEvent.click(screen.getByRole("button", { name: "Remove +15550001111" }));
    const again = screen.getByRole("alertdialog");
    expect(within(again).queryByRole("alert")).not.toBeInTheDocument();
    await userEvent.click(within(again).getByRole("button", { name: "Remove number" }));

    await waitFor(() => expect(screen.queryByRole("alertdialog")).not.toBeInTheDocument());
    await waitFor(() => expect(screen.queryByRole("button", { name: "Remove +15550001111" })).not.toBeInTheDocument());
    expect(requests.filter((r) => r.method === "GET")).toHaveLength(2);
  });
});
