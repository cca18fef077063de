import { loggableUrl } from "../../../registry/ops/loggable-url";

describe("loggableUrl", () => {
  it("redacts credentials a client put in the query, whatever their case or escaping", () => {
    expect(loggableUrl("/v2/library/app/manifests/1?access_token=eyJhbGciOi.secret.sig")).toBe("/v2/library/app/manifests/1?access_token=[redacted]");
    expect(loggableUrl("/api/v2.0/projects?page=2&Access_Token=abc&name=x")).toBe("/api/v2.0/projects?page=2&Access_Token=[redacted]&name=x");
    expect(loggableUrl("/service/token?%61ccess_token=abc&scope=repository%3Aa%3Apull")).toBe("/service/token?%61ccess_token=[redacted]&scope=repository%3Aa%3Apull");
    expect(loggableUrl("/x?password=p&secret=s&token")).toBe("/x?password=[redacted]&secret=[redacted]&token=[redacted]");
  });

  it("keeps everything else as sent", () => {
    expect(loggableUrl("/v2/")).toBe("/v2/");
    expect(loggableUrl("/api/v2.0/audit-logs?q=operation%3Dcreate&page_size=10")).toBe("/api/v2.0/audit-logs?q=operation%3Dcreate&page_size=10");
    expect(loggableUrl("/x?%E0%A4%A=1")).toBe("/x?%E0%A4%A=1");
  });
});
