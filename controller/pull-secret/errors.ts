import { formatProblem, type Problem } from "../policy/load";

/** Why no pull secret was made, at its place in the files; nothing was printed. */
export class PullSecretRefused extends Error {
  constructor(readonly problems: Problem[]) {
    super(`${problems.map(formatProblem).join("\n")}\nno pull secret was made`);
  }
}

/** A mistake in the command line itself (not in the files). */
export class PullSecretUsage extends Error {}
