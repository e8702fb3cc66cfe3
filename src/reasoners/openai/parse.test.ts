import { describe, expect, it } from "vitest";
import { AnswerParseError, parseAnswer } from "./parse.js";
import { stripThinking } from "../../net/chat.js";

describe("parseAnswer", () => {
  it("reads plain JSON", () => {
    expect(parseAnswer('{"mask_ids": [3, 5], "explanation": "sails"}')).toEqual({ ids: [3, 5], rejected: [], explanation: "sails" });
  });
  it("ignores <think> blocks, including JSON inside them", () => {
    const r = parseAnswer('<think>maybe {"mask_ids": [9]}</think>\n{"mask_ids": [1], "explanation": "x"}');
    expect(r.ids).toEqual([1]);
  });
  it("handles a lone closing </think> tag", () => {
    const r = parseAnswer('I think {"mask_ids": [7]} could work.</think>{"mask_ids": [2], "explanation": "y"}');
    expect(r.ids).toEqual([2]);
  });
  it("reads fenced JSON and JSON inside prose", () => {
    expect(parseAnswer('Answer:\n```json\n{"mask_ids": [4], "explanation": "z"}\n```\nDone.').ids).toEqual([4]);
    expect(parseAnswer('My answer is {"mask_ids": [0, 2], "explanation": "a {brace} in text"} ok').ids).toEqual([0, 2]);
  });
  it("accepts ids as strings and 'Mask N', and rejects non-ids", () => {
    const r = parseAnswer('{"mask_ids": ["3", "Mask 4", "[Mask 5]", 6, "the sail", 1.5], "explanation": ""}');
    expect(r.ids).toEqual([3, 4, 5, 6]);
    expect(r.rejected).toEqual(["the sail", "1.5"]);
  });
  it("recovers the id list from a cut-off answer", () => {
    const r = parseAnswer('{"mask_ids": [1, 8], "explanation": "The sails harn');
    expect(r).toMatchObject({ ids: [1, 8], truncated: true, explanation: "The sails harn" });
  });
  it("an empty list is an answer; empty text or no JSON is not", () => {
    expect(parseAnswer('{"mask_ids": [], "explanation": "nothing"}').ids).toEqual([]);
    expect(() => parseAnswer("")).toThrow(AnswerParseError);
    expect(() => parseAnswer("<think>only thinking</think>")).toThrow(AnswerParseError);
    expect(() => parseAnswer("I cannot tell.")).toThrow(/no JSON answer/);
  });
  it("stripThinking drops an unfinished thought", () => {
    expect(stripThinking("<think>still going")).toBe("");
    expect(stripThinking("a<think>b</think>c")).toBe("ac");
  });
});
