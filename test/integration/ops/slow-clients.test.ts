/**
 * Slow clients cannot hold the server: an /api body that trickles in is cut at the body deadline with 408, and an
 * upload chunk that stops sending is ended at the idle deadline, leaving the session as it was before the chunk.
 */
import { connect, type Socket } from "node:net";
import { ADMIN_AUTH, startBerth, type TestBerth } from "../../support/berth";
import { RegistryClient } from "../../support/registry-client";

let berth: TestBerth;
beforeAll(async () => {
  berth = await startBerth({ env: { BERTH_BODY_TIMEOUT_SECONDS: "2", BERTH_IDLE_TIMEOUT_SECONDS: "2" } });
});
afterAll(() => berth.close());

/** Opens a connection, sends `head`, and collects what comes back until the server closes it. */
function rawRequest(head: string): { socket: Socket; closed: Promise<string> } {
  const { hostname, port } = new URL(berth.url);
  const socket = connect(Number(port), hostname);
  socket.write(head);
  let answer = "";
  socket.on("data", (chunk) => (answer += chunk));
  const closed = new Promise<string>((resolve) => socket.once("close", () => resolve(answer)));
  socket.on("error", () => undefined);
  return { socket, closed };
}

it("answers 408 to an /api body still trickling in at the body deadline, and closes the connection", async () => {
  const { socket, closed } = rawRequest(
    `POST /api/v2.0/projects HTTP/1.1\r\nHost: ${new URL(berth.url).host}\r\nAuthorization: ${ADMIN_AUTH}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"project_name":`,
  );
  // A byte every half second: never idle, never done.
  const trickle = setInterval(() => socket.writable && socket.write(" "), 500);
  try {
    const answer = await closed;
    expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(JSON.parse(answer.split("\r\n\r\n")[1])).toEqual({ errors: [{ code: "REQUEST_TIMEOUT", message: "the request body did not arrive in time" }] });
  } finally {
    clearInterval(trickle);
  }
});

it("ends an upload chunk that stops sending, and the session keeps its size from before the chunk", async () => {
  const admin = new RegistryClient(berth.url);
  const location = await admin.startUpload("library/stalled");
  const { closed } = rawRequest(
    `PATCH ${location} HTTP/1.1\r\nHost: ${new URL(berth.url).host}\r\nAuthorization: ${ADMIN_AUTH}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1048576\r\n\r\n${"x".repeat(4096)}`,
  );
  expect(await closed).toBe(""); // cut without an answer: the client sees its connection end, as on any network failure
  expect(await admin.uploadedSize(location)).toBe(0);
});

it("serves a request whose body arrives in time", async () => {
  const response = await fetch(`${berth.url}/api/v2.0/projects`, { method: "POST", headers: { Authorization: ADMIN_AUTH, "Content-Type": "application/json" }, body: JSON.stringify({ project_name: "in-time", metadata: { public: "false" } }) });
  expect(response.status).toBe(201);
});

it("lets a signed-in vulnerability database import stream past the body deadline while it keeps sending", async () => {
  const body = JSON.stringify([{ id: "SLOW-1", modified: "2026-01-01T00:00:00Z", affected: [{ package: { ecosystem: "npm", name: "slow" }, versions: ["1.0.0"] }] }]);
  const { socket, closed } = rawRequest(
    `POST /api/v2.0/vulndb/import HTTP/1.1\r\nHost: ${new URL(berth.url).host}\r\nAuthorization: ${ADMIN_AUTH}\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: ${body.length + 8}\r\n\r\n${body}`,
  );
  // Whitespace a little at a time for about 3.5 s: past the 2 s body deadline, never idle for 2 s.
  for (let i = 0; i < 7; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    socket.write(" ");
  }
  socket.write(" ");
  expect(await closed).toMatch(/^HTTP\/1\.1 201 Created\r\n/);
});
