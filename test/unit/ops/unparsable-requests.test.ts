import { PassThrough } from "node:stream";
import { answerUnparsableRequest } from "../../../registry/ops/unparsable-requests";

/** What the handler writes for a refused request whose first bytes were `rawPacket`. */
function answerTo(code: string, rawPacket?: string): { head: string; body: unknown } {
  const socket = new PassThrough();
  let written = "";
  socket.on("data", (chunk: Buffer) => (written += chunk.toString("utf8")));
  const error = Object.assign(new Error("parse error"), { code, rawPacket: rawPacket === undefined ? undefined : Buffer.from(rawPacket, "latin1") });
  socket.on("error", () => undefined);
  answerUnparsableRequest(error, socket);
  socket.read();
  const [head, body] = written.split("\r\n\r\n");
  return { head, body: JSON.parse(body) };
}

describe("answers to requests Node's HTTP parser refuses", () => {
  it("a /v2 request gets the spec's error body", () => {
    const { head, body } = answerTo("HPE_INVALID_URL", "GET /v2/library/app/manifests/v\u00a71 HTTP/1.1\r\n");
    expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(body).toEqual({ errors: [{ code: "UNSUPPORTED", message: "the request could not be parsed as HTTP" }] });
  });

  it("an /api request, or one whose bytes are unknown, gets Harbor's", () => {
    expect(answerTo("HPE_INVALID_URL", "GET /api/v2.0/projects?q=\u00a7 HTTP/1.1\r\n").body).toEqual({
      errors: [{ code: "BAD_REQUEST", message: "the request could not be parsed as HTTP" }],
    });
    expect(answerTo("HPE_INVALID_METHOD").body).toEqual({ errors: [{ code: "BAD_REQUEST", message: "the request could not be parsed as HTTP" }] });
  });

  it("headers too large are a 431, in the API's body", () => {
    const { head, body } = answerTo("HPE_HEADER_OVERFLOW", "GET /v2/ HTTP/1.1\r\nX: ");
    expect(head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(body).toEqual({ errors: [{ code: "UNSUPPORTED", message: "the request headers are too large" }] });
  });

  it("a /v2-lookalike path is not /v2", () => {
    expect(answerTo("HPE_INVALID_URL", "GET /v20/x HTTP/1.1\r\n").body).toEqual({ errors: [{ code: "BAD_REQUEST", message: "the request could not be parsed as HTTP" }] });
  });
});
