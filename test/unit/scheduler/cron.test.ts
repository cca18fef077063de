import { harborCronProblem } from "../../../registry/scheduler/cron";

describe("harborCronProblem", () => {
  it.each(["0 0 0 * * *", "0 */15 * * * *", "0 30 2 * * 1-5", "0 0 3 1 * *"])("accepts %s", (cron) => {
    expect(harborCronProblem(cron)).toBeNull();
  });

  it.each([
    ["", /non-empty/],
    ["0 0 * * *", /6 fields/],
    ["* 0 0 * * *", /second field of cron must be 0/],
    ["0 61 * * * *", /minute field \("61"\) is invalid/],
    ["0 0 25 * * *", /hour field \("25"\) is invalid/],
    ["0 0 0 * 13 *", /month field \("13"\) is invalid/],
  ])("refuses %j, naming the field", (cron, message) => {
    expect(harborCronProblem(cron)).toMatch(message);
  });

  it("refuses what is not a string", () => {
    expect(harborCronProblem(7)).toMatch(/string/);
  });
});
