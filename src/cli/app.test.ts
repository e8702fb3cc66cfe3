// Library messages name settings in library terms (`option maxPixels`); the CLI names its own flags.
import { describe, expect, it } from "vitest";
import { checkBinding } from "../server/security.js";
import { inCliTerms } from "./app.js";

describe("inCliTerms", () => {
  it("names the flag for a library option, and leaves backend options and other text alone", () => {
    expect(inCliTerms('cannot read image "a.png": 40×30 = 1200 pixels exceeds the limit of 1000 pixels (raise it with option maxPixels)')).toBe(
      'cannot read image "a.png": 40×30 = 1200 pixels exceeds the limit of 1000 pixels (raise it with --max-pixels)',
    );
    expect(inCliTerms("no sample could be analysed: no proposals (none in result.json, none in a proposals folder: option proposalsDir)")).toMatch(/folder: --proposals\)$/);
    expect(inCliTerms("labelling needs an LLM (option llm) or a detector for the classes it knows")).toBe("labelling needs an LLM (--llm) or a detector for the classes it knows");
    for (const text of ["the reply is larger than 1048576 bytes (option maxReplyBytes)", 'option "timeoutMs" must be a number', "no option here"]) expect(inCliTerms(text)).toBe(text);
  });

  it("the server's refusal to listen without a token says it in library terms; the CLI in its own", () => {
    let message = "";
    try {
      checkBinding("0.0.0.0", undefined);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe("refusing to listen on 0.0.0.0 without a token: anyone on the network could use the server; give it one (option token)");
    expect(inCliTerms(message)).toMatch(/give it one \(GEAR_SEG_TOKEN, or a variable named with --token-env\)$/);
  });
});
