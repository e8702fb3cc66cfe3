// Vitest setup file (vitest.config.ts): runs in every test file, removes the folders its tests made with tempDir().
import { afterAll } from "vitest";
import { removeTempDirs } from "./temp.js";

afterAll(removeTempDirs);
