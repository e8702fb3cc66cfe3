import { describe, expect, it } from "vitest";
import { OFFLINE_DEFAULT_NOTICE, offlineDefaultNotice } from "./stack.js";

describe("offlineDefaultNotice", () => {
  it("names only the stages that fell back to the offline default", () => {
    expect(OFFLINE_DEFAULT_NOTICE).toBe(
      "offline default: classic segmenter, attributes describer, WordNet reasoner, NanoDet-g object detector (COCO classes) — see README to plug in SAM 2, DAM and an LLM",
    );
    expect(offlineDefaultNotice(["describer", "reasoner"])).toBe(
      "offline default: attributes describer, WordNet reasoner — see README to plug in DAM and an LLM",
    );
    expect(offlineDefaultNotice(["reasoner"])).toBe("offline default: WordNet reasoner — see README to plug in an LLM");
    expect(offlineDefaultNotice(["detector"])).toBe("offline default: NanoDet-g object detector (COCO classes)");
  });
});
