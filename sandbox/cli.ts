/**
 * The `meshcanary` command as installed: the controller's CLI plus `demo`, which lives with the
 * sandbox it runs (controller/ never imports sandbox/).
 */
import { main as controllerMain } from "../controller/cli/main.js";
import { demoCommand } from "./demo/demo-command.js";

export function main(argv: string[]): Promise<number> {
  return controllerMain(argv, [demoCommand()]);
}
