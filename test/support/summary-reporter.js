// Prints one plain closing line, "tests: N passed, N failed, N skipped", that tools reading CI output understand,
// preceded by the slowest suites, because the suite's time budget (10 minutes on 2 cores) is watched from CI logs.
const SLOWEST = 15;

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const { numPassedTests, numFailedTests, numPendingTests, numTodoTests, testResults } = results;
    if (testResults.length >= 10) this.printSlowest(testResults);
    process.stdout.write(`\ntests: ${numPassedTests} passed, ${numFailedTests} failed, ${numPendingTests + numTodoTests} skipped\n`);
  }

  printSlowest(testResults) {
    const timed = testResults.map((r) => ({ path: r.testFilePath.replace(process.cwd() + "/", ""), seconds: (r.perfStats.end - r.perfStats.start) / 1000 }));
    const total = timed.reduce((sum, t) => sum + t.seconds, 0);
    const lines = timed
      .sort((a, b) => b.seconds - a.seconds)
      .slice(0, SLOWEST)
      .map((t) => `  ${t.seconds.toFixed(1).padStart(7)} s  ${t.path}`);
    process.stdout.write(`\nslowest suites (of ${total.toFixed(0)} s summed over all suites):\n${lines.join("\n")}\n`);
  }
}
module.exports = SummaryReporter;
