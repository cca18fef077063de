import v8 from "node:v8";

/**
 * A fixed growth factor for V8's old generation: a full collection starts once the old generation reaches
 * (1 + percent/100) × what the previous one left alive. 0 leaves V8's own heuristic in place.
 *
 * Why not V8's heuristic: it sizes the next limit from how fast the program allocated just before, and a registry is
 * often idle (while its embedded database starts, at night, between CI bursts). After an idle spell V8 sets the limit
 * at 1.1 × the live heap plus a young generation that is small then; when uploads stream in, the young generation
 * grows to 16 MB per semi-space, the room left under the limit is smaller than that, and V8 starts marking the whole
 * heap again as soon as the last marking finished. Measured over three 256 MiB pushes and two of 50 × 1 MiB after a
 * PGlite start (bench/README.md, issue 20): 43–47 full collections of the main heap with V8's heuristic (one run in
 * five: 7), 12–18 with 100%, 2–3 with 200%; V8's helper threads' CPU 2.9–3.4 s, 1.8–2.0 s and 1.3–1.5 s; the peak
 * RSS the same (280–355 MB). 200% (a factor of 3) stays under the 4 that V8 itself allows on a machine with this much
 * memory.
 *
 * The flag is one V8 reads at every collection (not only at start), so setting it from inside the process works; the
 * test in test/unit/ops/heap-growth.test.ts checks that the running Node honours it.
 */
export function applyHeapGrowth(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${Math.floor(percent)}`);
}
