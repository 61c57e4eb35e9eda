// The command buttons: enabled with credentials, abort confirmed by a second click.

import { getJson, postCommand, token } from "./api.js";
import { $, toast } from "./dom.js";
import { state } from "./state.js";

/**
 * A button is enabled with credentials and only when its command applies in the current phase:
 * the API gives the controller's own answer per command (null: applies; else why not), shown as
 * the button's title. Without that answer (an older controller) every button is enabled.
 */
export function renderActions() {
  const hasToken = token() !== "" || state.user !== undefined;
  const commands = state.detail?.commands;
  for (const b of document.querySelectorAll("button.action")) {
    const command = b.dataset.command;
    const refusal = !commands
      ? null
      : command in commands
        ? commands[command]
        : "not offered by this controller";
    b.disabled = !hasToken || refusal !== null;
    if (refusal !== null) b.title = refusal;
    else b.removeAttribute("title");
  }
  $("action-hint").textContent = state.user
    ? `Signed in as ${state.user}.`
    : hasToken
      ? ""
      : "Enter an API token above to enable actions.";
}

/** The signed-in user when the request carries credentials (e.g. through `meshcanary dashboard`). */
export async function loadUser() {
  try {
    const me = await getJson("/api/v1/whoami");
    state.user = me.authenticated ? me.user : undefined;
  } catch {
    state.user = undefined;
  }
  renderActions();
}

async function sendCommand(command) {
  const c = state.detail;
  if (!c) return;
  const result = await postCommand(c.namespace, c.name, command);
  if (result.ok) toast(`${command} sent to ${c.namespace}/${c.name}`);
  else toast(`${command} failed (${result.message})`, "error");
}

export function onAction(button) {
  // Abort is irreversible for this rollout: it takes a second click within 3 s.
  if (button.dataset.command === "abort" && !button.classList.contains("confirming")) {
    button.classList.add("confirming");
    button.textContent = "Confirm abort";
    setTimeout(() => {
      button.classList.remove("confirming");
      button.textContent = "Abort";
    }, 3000);
    return;
  }
  button.classList.remove("confirming");
  button.textContent = button.dataset.command === "abort" ? "Abort" : button.textContent;
  sendCommand(button.dataset.command).catch((err) => toast(String(err.message ?? err), "error"));
}
