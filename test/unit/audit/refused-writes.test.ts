import { refusedWriteEntry } from "../../../registry/audit/refused-writes";

describe("refusedWriteEntry", () => {
  it.each([
    ["POST", "/api/v2.0/projects", 403, "create", "project", "/projects"],
    ["PUT", "/api/v2.0/projects/dev-team/members/4?x=1", 401, "update", "member", "/projects/dev-team/members/4"],
    ["DELETE", "/api/v2.0/users/7", 403, "delete", "user", "/users/7"],
    ["PATCH", "/api/v2.0/robots/3", 400, "update", "robot", "/robots/3"],
    ["POST", "/api/v2.0/projects/p/metadatas/", 409, "update", "project", "/projects/p/metadatas/"],
    ["DELETE", "/api/v2.0/projects/p/metadatas/auto_scan", 403, "update", "project", "/projects/p/metadatas/auto_scan"],
  ])("records %s %s → %i as a failed %s of a %s", (method, url, status, operation, resourceType, resource) => {
    expect(refusedWriteEntry(method, url, status)).toEqual({
      projectId: null,
      operation,
      resourceType,
      resource,
      description: `${operation} ${resourceType} refused with ${status}: ${method} ${resource}`,
      result: false,
    });
  });

  it.each([
    ["GET", "/api/v2.0/projects", 403],
    ["POST", "/api/v2.0/projects", 201],
    ["PUT", "/v2/library/app/manifests/v1", 403],
    ["POST", "/api/v2.0/no-such-thing", 404],
    ["POST", "/service/token", 405],
  ])("ignores %s %s → %i", (method, url, status) => {
    expect(refusedWriteEntry(method, url, status)).toBeNull();
  });
});
