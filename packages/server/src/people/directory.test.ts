import { describe, expect, it } from "vitest";
import { mayContact, parseClass, parseRole, type DirectoryEntry } from "./directory.js";

const person = (user: string, role: DirectoryEntry["role"], klass = ""): DirectoryEntry => ({ user, name: user, role, class: klass });

describe("directory policy rules", () => {
  const a7 = person("A", "pupil", "7a");
  const b7 = person("B", "pupil", "7a");
  const c8 = person("C", "pupil", "8c");
  const none = person("D", "pupil");
  const none2 = person("E", "pupil");
  const teacher = person("T", "staff");
  const clerk = person("M", "member");

  it("open: everyone contacts everyone", () => {
    for (const x of [a7, c8, none, teacher, clerk]) for (const y of [a7, c8, none, teacher, clerk]) expect(mayContact("open", x, y)).toBe(true);
  });

  it("school: pupils reach their own class, staff and members; staff reach everyone", () => {
    expect(mayContact("school", a7, b7)).toBe(true);
    expect(mayContact("school", a7, c8)).toBe(false);
    expect(mayContact("school", c8, a7)).toBe(false);
    expect(mayContact("school", a7, teacher)).toBe(true);
    expect(mayContact("school", a7, clerk)).toBe(true);
    expect(mayContact("school", teacher, c8)).toBe(true);
    // Pupils without a class are not one class.
    expect(mayContact("school", none, none2)).toBe(false);
    expect(mayContact("school", none, none)).toBe(true);
  });

  it("reads roles as people write them and refuses others", () => {
    expect(["Schüler", "schülerin", "Student", "PUPIL"].map(parseRole)).toEqual(["pupil", "pupil", "pupil", "pupil"]);
    expect(["Lehrer", "Lehrkraft", "teacher", "staff"].map(parseRole)).toEqual(["staff", "staff", "staff", "staff"]);
    expect(["", "Mitglied", "member"].map(parseRole)).toEqual(["member", "member", "member"]);
    expect(() => parseRole("Hausmeister")).toThrow(/Hausmeister/);
    expect(parseClass(" 7b ")).toBe("7b");
    expect(() => parseClass("x".repeat(33))).toThrow(RangeError);
    expect(() => parseClass("<b>")).toThrow(RangeError);
  });
});
