import "@/test/navigation-mock";

import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";

import { fakeApi, renderWithClient } from "@/test/render";

import { InviteForm } from "./invite-form";
import { SignInForm } from "./sign-in-form";

afterEach(() => vi.unstubAllGlobals());

const SIGNED_IN = { token: "vs_x", csrf_token: "c", expires_at_unix_secs: 1, user: { email: "ana@acme.test", role: "manager" } };

describe("the sign-in form", () => {
  it("sends the email and password and reports the person signed in", async () => {
    const requests = fakeApi({ "POST /v1/auth/sign-in": { body: SIGNED_IN } });
    const onSignedIn = vi.fn();
    renderWithClient(<SignInForm onSignedIn={onSignedIn} />);

    await userEvent.type(screen.getByLabelText("Email"), " ana@acme.test ");
    await userEvent.type(screen.getByLabelText("Password"), "a long password");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));

    await waitFor(() => expect(onSignedIn).toHaveBeenCalledWith(SIGNED_IN));
    expect(requests[0]?.body).toEqual({ email: "ana@acme.test", password: "a long password" });
  });

  it.each([
    [401, "invalid_credentials", "the e-mail address or the password is wrong", "The e-mail address or the password is wrong"],
    [429, "account_locked", "too many wrong passwords; try again in 15 minutes", "Too many wrong passwords; try again in 15 minutes"],
  ])("shows the API's refusal (%i) as it words it", async (status, reason, message, shown) => {
    fakeApi({ "POST /v1/auth/sign-in": { status, body: { detail: { status: reason, message } } } });
    const onSignedIn = vi.fn();
    renderWithClient(<SignInForm onSignedIn={onSignedIn} />);

    await userEvent.type(screen.getByLabelText("Email"), "ana@acme.test");
    await userEvent.type(screen.getByLabelText("Password"), "wrong");
    await userEvent.click(screen.getByRole("button", { name: "Sign in" }));

    expect(await screen.findByText(shown)).toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("Could not sign in");
    expect(onSignedIn).not.toHaveBeenCalled();
  });
});

describe("the invite form", () => {
  async function choose(password: string, repeat = password) {
    await userEvent.type(screen.getByLabelText("New password"), password);
    await userEvent.type(screen.getByLabelText("Repeat password"), repeat);
    await userEvent.click(screen.getByRole("button", { name: "Set password" }));
  }

  it("sets the password, then signs in with it", async () => {
    const requests = fakeApi({
      "POST /v1/auth/invite/accept": { body: { email: "ana@acme.test", role: "manager" } },
      "POST /v1/auth/sign-in": { body: SIGNED_IN },
    });
    const onDone = vi.fn();
    renderWithClient(<InviteForm token="tok_1" onDone={onDone} />);

    await choose("a long enough password");

    await waitFor(() => expect(onDone).toHaveBeenCalled());
    expect(requests.map((r) => [r.url, r.body])).toEqual([
      ["/v1/auth/invite/accept", { token: "tok_1", password: "a long enough password" }],
      ["/v1/auth/sign-in", { email: "ana@acme.test", password: "a long enough password" }],
    ]);
  });

  it("asks again when the two passwords differ, sending nothing", async () => {
    const requests = fakeApi({});
    renderWithClient(<InviteForm token="tok_1" onDone={vi.fn()} />);

    await choose("a long enough password", "a long enough passwort");

    expect(screen.getByText("The two passwords differ.")).toBeInTheDocument();
    expect(screen.getByLabelText("Repeat password")).toHaveAttribute("aria-invalid", "true");
    expect(requests).toHaveLength(0);
  });

  it("puts a weak password's reason under the password", async () => {
    fakeApi({ "POST /v1/auth/invite/accept": { status: 422, body: { detail: { status: "weak_password", message: "a password needs at least 10 characters" } } } });
    renderWithClient(<InviteForm token="tok_1" onDone={vi.fn()} />);

    await choose("short");

    const field = screen.getByLabelText("New password");
    await waitFor(() => expect(field).toHaveAttribute("aria-invalid", "true"));
    expect(field).toHaveAccessibleDescription(/A password needs at least 10 characters/);
  });

  it("says an expired invite has expired and what to do", async () => {
    fakeApi({ "POST /v1/auth/invite/accept": { status: 410, body: { detail: { status: "invalid_invite", message: "this invite has expired; ask an admin for a new one" } } } });
    renderWithClient(<InviteForm token="tok_1" onDone={vi.fn()} />);

    await choose("a long enough password");

    expect(await screen.findByText("This invite has expired; ask an admin for a new one")).toBeInTheDocument();
  });
});
