import { passwordProblem, usernameProblem } from "../../../registry/users/password-policy";

describe("passwordProblem (Harbor's rule)", () => {
  it.each(["Passw0rd", "aB3aaaaa", "Ünïcödé-Pa55", `A1${"a".repeat(126)}`, "Zz9🙂🙂🙂🙂🙂"])("accepts %j", (password) => {
    expect(passwordProblem(password)).toBeNull();
  });

  it.each([
    ["seven characters", "Passw0r", /8 to 128/],
    ["129 characters", `A1${"a".repeat(127)}`, /8 to 128/],
    ["no uppercase letter", "passw0rd", /uppercase/],
    ["no lowercase letter", "PASSW0RD", /lowercase/],
    ["no digit", "Password", /digit/],
    ["an empty string", "", /8 to 128/],
  ])("refuses %s", (_case, password, reason) => {
    expect(passwordProblem(password)).toMatch(reason);
  });

  it("counts characters, not UTF-16 units", () => {
    // Four emoji are eight UTF-16 units but four characters: with "Ab1" that is seven characters.
    expect(passwordProblem("Ab1🙂🙂🙂🙂")).toMatch(/8 to 128/);
  });

  it.each([undefined, null, 12345678, ["Passw0rd"]])("refuses a non-string %j", (password) => {
    expect(passwordProblem(password)).toBe("password must be a string");
  });
});

describe("usernameProblem (Harbor's rule)", () => {
  it.each(["a", "alice", "alice.smith@example.com", "robot", "robots-team", "x".repeat(255)])("accepts %j", (username) => {
    expect(usernameProblem(username)).toBeNull();
  });

  it.each<[string, unknown]>([
    ["an empty name", ""],
    ["256 characters", "x".repeat(256)],
    ["a robot$ prefix", "robot$ci"],
    ...[",", '"', "~", "#", "%", "$", "\0"].map((c): [string, unknown] => [`the character ${JSON.stringify(c)}`, `al${c}ice`]),
    ["a number", 42],
    ...["\u202E", "\u202D", "\u200B", "\u200F", "\u2066", "\uFEFF", "\u0007", "\t", "\n", "\u0085"].map(
      (c): [string, unknown] => [`the control or format character U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`, `al${c}ice`],
    ),
  ])("refuses %s", (_case, username) => {
    expect(usernameProblem(username)).not.toBeNull();
  });
});
