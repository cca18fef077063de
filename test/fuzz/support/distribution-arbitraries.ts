import fc from "fast-check";

/**
 * Generators for what a /v2 client puts in a request: repository names, references, digests, ranges, upload steps
 * and manifests. Each mixes values the spec allows with the ways clients (and attackers) get them wrong.
 */

/**
 * Percent-encodes any text, lone surrogates included (as the bytes WTF-8 gives them, which are not UTF-8: a server
 * decoding them as UTF-8 must refuse them cleanly). encodeURIComponent throws on those.
 */
export function encodeAny(text: string): string {
  return text.replace(/[\ud800-\udbff][\udc00-\udfff]|[\s\S]/gu, (character) => {
    const code = character.charCodeAt(0);
    if (character.length === 1 && code >= 0xd800 && code <= 0xdfff) {
      return [0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)].map((byte) => `%${byte.toString(16).toUpperCase()}`).join("");
    }
    return encodeURIComponent(character);
  });
}

/** Bytes Node's HTTP client sends in a path as they are (it refuses anything outside U+0021–U+00FF). */
function pathSafe(text: string): string {
  return text.replace(/[^\u0021-\u00ff]/gu, (character) => encodeAny(character));
}

const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:(?:\.|_|__|-{1,2})[a-z0-9]{1,6}){0,2}$/);

/** A name the grammar accepts, usually inside the fixture project so the request gets past authorization. */
export const validName = (project: string) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.array(component, { minLength: 1, maxLength: 3 }).map((parts) => `${project}/${parts.join("/")}`) },
    { weight: 1, arbitrary: fc.array(component, { minLength: 2, maxLength: 4 }).map((parts) => parts.join("/")) },
  );

/** Names the grammar refuses, and encodings that may or may not decode to a valid one. */
export const invalidName = (project: string) =>
  fc.oneof(
    component.map((name) => name), // no project component
    component.map((name) => `${project}/${name.toUpperCase()}A`),
    component.map((name) => `${project}/.${name}`),
    component.map((name) => `${project}/${name}.`),
    component.map((name) => `${project}/../${name}`),
    component.map((name) => `${project}/./${name}`),
    component.map((name) => `${project}//${name}`),
    component.map((name) => `${project}/${name}/`),
    component.map((name) => `/${project}/${name}`),
    fc.integer({ min: 250, max: 2000 }).map((length) => `${project}/${"a".repeat(length)}`),
    fc.integer({ min: 60, max: 300 }).map((depth) => `${project}/${Array(depth).fill("x").join("/")}`),
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }).map((text) => `${project}/${encodeAny(text)}`),
    fc.string({ unit: "binary", minLength: 1, maxLength: 12 }).map((text) => `${project}/${pathSafe(text)}`),
    fc.constantFrom(
      `${project}%2Fapp`,
      `${project}/%2e%2e/app`,
      `${project}/app%00`,
      `${project}/%zz`,
      `${project}/%E0%A4%A`,
      `${project}/%`,
      `${project}/app%2F..%2Fx`,
      `${project}/a%20b`,
      `${project}/ä`,
      `${project}/app;x`,
      `${project}/app\\x`,
      "_catalog",
      "",
      "%2e%2e",
    ),
  );

export const repositoryName = (project: string) =>
  fc.oneof({ weight: 2, arbitrary: validName(project) }, { weight: 3, arbitrary: invalidName(project) });

const hex = (length: number) => fc.string({ unit: fc.constantFrom(..."0123456789abcdef"), minLength: length, maxLength: length });

/** Digests of every shape: well-formed (unknown here), wrong length, wrong case, wrong or missing algorithm. */
export const digest = fc.oneof(
  hex(64).map((h) => `sha256:${h}`),
  hex(128).map((h) => `sha512:${h}`),
  fc.integer({ min: 0, max: 140 }).chain((length) => hex(length).map((h) => `sha256:${h}`)),
  hex(64).map((h) => `sha256:${h.toUpperCase()}`),
  hex(64).map((h) => `SHA256:${h}`),
  hex(64).map((h) => `sha384:${h}`),
  hex(32).map((h) => `md5:${h}`),
  hex(64).map((h) => `sha256+b64:${h}`),
  hex(64).map((h) => `sha256::${h}`),
  hex(64).map((h) => `:${h}`),
  hex(64).map((h) => h),
  fc.constantFrom("sha256:", "sha256", ":", "sha256:%00", "sha256:%zz", "sha256%3A" + "a".repeat(64), "sha256:" + "g".repeat(64)),
  fc.string({ unit: "binary", maxLength: 80 }).map((text) => encodeAny(text)),
);

const tag = fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,40}$/);

/** Manifest references: tags (valid, too long, badly started, odd bytes) and digests. */
export const reference = (known: string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: tag },
    { weight: 2, arbitrary: digest },
    { weight: 1, arbitrary: fc.constantFrom(...known) },
    { weight: 1, arbitrary: fc.integer({ min: 128, max: 400 }).map((length) => "t".repeat(length)) },
    { weight: 1, arbitrary: tag.map((t) => `.${t}`) },
    { weight: 1, arbitrary: tag.map((t) => `-${t}`) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 20 }).map((text) => encodeAny(text)) },
    { weight: 1, arbitrary: fc.constantFrom("latest", "%00", "%2e%2e", "a%2Fb", "%", "..", "v1%20", "ä") },
  );

/** A whole number as clients write them: small, at the edges of the blob, or far past anything safe. */
const position = fc.oneof(
  fc.integer({ min: 0, max: 120 }),
  fc.constantFrom(2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER).map(String),
  fc.bigInt({ min: 2n ** 53n, max: 10n ** 40n }).map(String),
);

/** `Range` headers for a blob GET: valid, suffix, open, inverted, multiple, malformed. */
export const rangeHeader = fc.oneof(
  fc.tuple(position, position).map(([a, b]) => `bytes=${a}-${b}`),
  position.map((a) => `bytes=${a}-`),
  position.map((b) => `bytes=-${b}`),
  fc.tuple(position, position, position, position).map(([a, b, c, d]) => `bytes=${a}-${b},${c}-${d}`),
  fc.tuple(position, position).map(([a, b]) => `${a}-${b}`),
  fc.tuple(position, position).map(([a, b]) => `items=${a}-${b}`),
  fc.tuple(position, position).map(([a, b]) => ` bytes = ${a} - ${b} `),
  fc.integer({ min: -100, max: -1 }).map((a) => `bytes=${a}-10`),
  fc.constantFrom("bytes=", "bytes=-", "bytes=0x10-0x20", "bytes=1e2-", "bytes=0-1.5", "bytes=\u00ff-1"),
  fc.string({ unit: "grapheme-ascii", maxLength: 30 }),
);

/** `Content-Range` headers other than the right one, for PATCH and PUT. */
export const wrongContentRange = fc.oneof(
  fc.tuple(position, position).map(([a, b]) => `${a}-${b}`),
  fc.tuple(position, position).map(([a, b]) => `bytes ${a}-${b}/*`),
  fc.tuple(position, position, position).map(([a, b, c]) => `bytes=${a}-${b}/${c}`),
  position.map((a) => `${a}-`),
  position.map((a) => `-${a}`),
  fc.constantFrom("", " ", "0--1", "1-0", "a-b", "0-", "-", "0-0-0", "bytes */100"),
  fc.string({ unit: "grapheme-ascii", maxLength: 30 }),
);

/** One step of an upload, applied to the current session. */
export type UploadStep =
  | { kind: "patch"; size: number; range: "right" | "none" | "offset" | "length" | { header: string }; chunked: boolean }
  | { kind: "put"; size: number; digest: "right" | "other" | { raw: string }; range: "none" | "offset"; chunked: boolean }
  | { kind: "status" }
  | { kind: "cancel" }
  | { kind: "restart" };

const chunkSize = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 300 }) }, { weight: 1, arbitrary: fc.integer({ min: 1000, max: 70_000 }) });

export const uploadStep: fc.Arbitrary<UploadStep> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("patch" as const),
      size: chunkSize,
      range: fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom("right" as const, "none" as const) },
        { weight: 1, arbitrary: fc.constantFrom("offset" as const, "length" as const) },
        { weight: 1, arbitrary: wrongContentRange.map((header) => ({ header })) },
      ),
      chunked: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("put" as const),
      size: fc.oneof(fc.constant(0), chunkSize),
      digest: fc.oneof({ weight: 4, arbitrary: fc.constant("right" as const) }, fc.constant("other" as const), digest.map((raw) => ({ raw }))),
      range: fc.oneof({ weight: 4, arbitrary: fc.constant("none" as const) }, fc.constant("offset" as const)),
      chunked: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: "status" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "cancel" as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: "restart" as const }) },
);

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const MEDIA_TYPES = [
  OCI_MANIFEST,
  OCI_INDEX,
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.docker.distribution.manifest.v1+prettyjws",
  "application/vnd.oci.image.config.v1+json",
  "application/json",
  "text/plain",
  "",
  "application/vnd.oci.image.manifest.v1+json; charset=utf-8",
  "application/vnd.oci.image.manifest.v1+json, application/json",
  "*/*",
  "application/vnd.oci.image.manifest.v1+json\u00ff",
];
export const mediaType = fc.oneof(fc.constantFrom(...MEDIA_TYPES), fc.string({ unit: "grapheme-ascii", maxLength: 40 }));

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** Characters for generated text: mostly ASCII, any code point (lone surrogates too), and the ones databases refuse. */
export const textUnit = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x10ffff }).map((code) => String.fromCodePoint(code)) },
  { weight: 1, arbitrary: fc.constantFrom("\u0000", "\ud800", "\udfff", "\u202e", "\u00ff", "\ufeff", "\\", '"', "%", "😀") },
);

/** JSON values of any shape, for replacing a field. */
export const anyJson = fc.jsonValue({ maxDepth: 3, stringUnit: textUnit });

/** Nesting deep enough to hurt a recursive parser or walker, still under the size limits. */
export const deepNesting = fc
  .tuple(fc.integer({ min: 50, max: 20_000 }), fc.constantFrom("[", "{\"a\":"))
  .map(([depth, open]) => `${open.repeat(depth)}1${(open === "[" ? "]" : "}").repeat(depth)}`);

/** A nested value for a field (stringified by the test, so kept within what JSON.stringify can walk). */
export const deepValue = fc.integer({ min: 10, max: 1000 }).map((depth) => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
});

/** A change to a JSON document: a field at some path removed, replaced or added. */
const mutation = fc.record({
  path: fc.array(fc.oneof(fc.constantFrom("mediaType", "schemaVersion", "config", "layers", "manifests", "digest", "size", "subject", "annotations", "artifactType", "platform", "urls"), fc.nat(3)), { minLength: 1, maxLength: 3 }),
  action: fc.constantFrom("delete", "replace", "replace"),
  value: fc.oneof(anyJson, digest, fc.constantFrom(-1, 2 ** 63, 1.5, "12", null, [], {}, "sha256:" + "0".repeat(64)), deepValue),
});

export type Mutation = { path: (string | number)[]; action: "delete" | "replace"; value: unknown };

/** Applies a mutation where its path exists (or can be made to exist one level down). */
export function mutate(document: unknown, change: Mutation): unknown {
  const copy = structuredClone(document) as Record<string | number, unknown>;
  let target: Record<string | number, unknown> = copy;
  for (const key of change.path.slice(0, -1)) {
    const next = target[key];
    if (typeof next !== "object" || next === null) return copy;
    target = next as Record<string | number, unknown>;
  }
  const last = change.path[change.path.length - 1];
  if (change.action === "delete") delete target[last];
  else target[last] = change.value;
  return copy;
}

export interface ManifestCase {
  /** What the client sends as Content-Type (absent when null). */
  contentType: string | null;
  body: string;
  /** True when the body is the fixture's well-formed manifest, sent as what it is: the registry must take it. */
  valid: boolean;
}

/**
 * Manifest PUT bodies: the fixture's valid manifest and index, those with fields mutated, random JSON, deep nesting,
 * many references, and bytes that are not JSON.
 */
export function manifestCase(image: { config: Descriptor; layer: Descriptor; manifest: Descriptor }): fc.Arbitrary<ManifestCase> {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: image.config,
    layers: [image.layer],
  };
  const index = { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ ...image.manifest, platform: { os: "linux", architecture: "amd64" } }] };
  const asIs = (document: object, type: string): fc.Arbitrary<ManifestCase> =>
    fc.string({ unit: "grapheme-ascii", maxLength: 12 }).map((note) => ({
      contentType: type,
      // An annotation that differs per run gives a new digest, so each valid push is a new manifest.
      body: JSON.stringify({ ...document, annotations: { "fuzz.note": note } }),
      valid: true,
    }));
  const mutated = (document: object) =>
    fc.tuple(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.option(mediaType, { nil: null })).map(([changes, type]) => ({
      contentType: type,
      body: JSON.stringify(changes.reduce<unknown>((doc, change) => mutate(doc, change as Mutation), document)) ?? "null",
      valid: false,
    }));
  const many = fc.integer({ min: 1, max: 6000 }).map((count) => ({
    contentType: OCI_MANIFEST,
    body: JSON.stringify({ ...manifest, layers: Array(count).fill(image.layer) }),
    valid: false,
  }));
  // Just under and just over the 4 MiB manifests may have (the padding is an annotation, so the JSON stays valid).
  const huge = fc.constantFrom(-64, 1).map((overLimit) => {
    const shell = JSON.stringify({ ...manifest, annotations: { pad: "" } });
    return { contentType: OCI_MANIFEST, body: JSON.stringify({ ...manifest, annotations: { pad: "x".repeat(4 * 1024 * 1024 - shell.length + overLimit) } }), valid: false };
  });
  const raw = (body: fc.Arbitrary<string>) => fc.tuple(body, fc.option(mediaType, { nil: null })).map(([text, type]) => ({ contentType: type, body: text, valid: false }));
  return fc.oneof(
    { weight: 2, arbitrary: asIs(manifest, OCI_MANIFEST) },
    { weight: 1, arbitrary: asIs(index, OCI_INDEX) },
    { weight: 5, arbitrary: mutated(manifest) },
    { weight: 2, arbitrary: mutated(index) },
    { weight: 1, arbitrary: fc.oneof({ weight: 9, arbitrary: many }, { weight: 1, arbitrary: huge }) },
    { weight: 1, arbitrary: raw(anyJson.map((value) => JSON.stringify(value) ?? "null")) },
    { weight: 1, arbitrary: raw(deepNesting) },
    { weight: 1, arbitrary: raw(fc.string({ unit: "binary", maxLength: 200 })) },
    { weight: 1, arbitrary: raw(fc.constantFrom("", "null", "[]", "{}", "{", '{"schemaVersion":2', "\ufeff{}", '{"a":1,"a":2}', '{"__proto__":{"x":1}}')) },
  );
}
