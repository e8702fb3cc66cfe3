// Comparing large arrays: `toEqual` on a typed array walks it element by element through vitest's generic
// equality (a 786 kB mask takes seconds, and a failure prints a diff of the whole array). sameArray compares
// the bytes with Buffer.equals and, when they differ, names the first differing index and both values.
import { assert } from "vitest";

type NumericArray = Uint8Array | Uint16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

function bytes(a: NumericArray): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Asserts that `actual` holds exactly `expected` (same length, same values bit for bit). A plain number list
 * as `expected` is converted to `actual`'s element type first. */
export function expectSameArray(actual: NumericArray, expected: NumericArray | readonly number[], what = "array"): void {
  const want: NumericArray = ArrayBuffer.isView(expected)
    ? (expected as NumericArray)
    : new (actual.constructor as new (values: readonly number[]) => NumericArray)(expected as readonly number[]);
  if (actual.length === want.length && actual.BYTES_PER_ELEMENT === want.BYTES_PER_ELEMENT && bytes(actual).equals(bytes(want))) return;
  let i = 0;
  while (i < Math.min(actual.length, want.length) && Object.is(actual[i], want[i])) i++;
  assert.fail(
    `${what}: ${actual.length} ${actual.constructor.name} values, expected ${want.length} ${want.constructor.name}; ` +
      (i < Math.min(actual.length, want.length) ? `first difference at index ${i}: ${actual[i]} instead of ${want[i]}` : `equal up to index ${i}`),
  );
}
