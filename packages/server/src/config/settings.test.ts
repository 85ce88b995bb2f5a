import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_FILE, ConfigError, ensureConfigFile, readConfigFile, resolveSetting, SETTINGS } from "./settings.js";

const dir = () => mkdtempSync(join(tmpdir(), "momedo-config-"));

describe("settings", () => {
  it("writes a commented file naming every setting, its flag and its environment variable", () => {
    const d = dir();
    const text = readFileSync(ensureConfigFile(d), "utf8");
    for (const s of SETTINGS) {
      expect(text).toContain(`# ${s.key} = ${s.fallback}`);
      expect(text).toContain(s.env);
    }
    expect(readConfigFile(d).size).toBe(0);
  });

  it("takes a flag over the environment over the file over the default", () => {
    const d = dir();
    writeFileSync(join(d, CONFIG_FILE), "# comment\nport = 5000\n");
    const file = readConfigFile(d);
    expect(resolveSetting("port", undefined, file, {})).toBe("5000");
    expect(resolveSetting("port", undefined, file, { MOMEDO_PORT: "6000" })).toBe("6000");
    expect(resolveSetting("port", "7000", file, { MOMEDO_PORT: "6000" })).toBe("7000");
    expect(resolveSetting("host", undefined, file, {})).toBe("0.0.0.0");
  });

  it("names the line of an unknown setting or a malformed line", () => {
    const d = dir();
    writeFileSync(join(d, CONFIG_FILE), "port = 1\nprot = 2\n");
    expect(() => readConfigFile(d)).toThrow(ConfigError);
    expect(() => readConfigFile(d)).toThrow(`${CONFIG_FILE}:2`);
    writeFileSync(join(d, CONFIG_FILE), "just words\n");
    expect(() => readConfigFile(d)).toThrow(":1:");
  });
});
