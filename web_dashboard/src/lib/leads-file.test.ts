import { describe, expect, it } from "vitest";

import { guessMapping, mappedFile, mappingProblems, previewLeads, variableName } from "./leads-file";

const FILE = '\ufeff\nMobile;Full Name;Company Name;tz\n+12125550101;"Lopez; Maria";Acme;America/New_York\n\n+12125550102;Park;"Park ""&"" Co";\n';

describe("a leads file read in the browser", () => {
  it("takes the delimiter from the header and previews the first rows, quotes and blank lines as the API reads them", () => {
    const preview = previewLeads(FILE);
    expect(preview?.delimiter).toBe(";");
    expect(preview?.header).toEqual(["Mobile", "Full Name", "Company Name", "tz"]);
    expect(preview?.rows).toEqual([
      ["+12125550101", "Lopez; Maria", "Acme", "America/New_York"],
      ["+12125550102", "Park", 'Park "&" Co', ""],
    ]);
  });

  it("guesses each column's role from the header names the API recognises", () => {
    const preview = previewLeads(FILE);
    expect(guessMapping(preview?.header ?? []).map((column) => column.role)).toEqual(["phone_number", "name", "variable", "timezone"]);
    expect(guessMapping(["Company Name"])[0]?.variable).toBe("company_name");
    expect(variableName("2nd Visit")).toBe("col_2nd_visit");
  });

  it("rewrites only the header line, so the rows and their numbers stay the file's", () => {
    const preview = previewLeads(FILE);
    if (!preview) throw new Error("no preview");
    const mapping = guessMapping(preview.header).map((column, index) => (index === 2 ? { role: "variable" as const, variable: "company" } : column));
    const mapped = mappedFile(FILE, preview, mapping);
    expect(mapped).toBe('\ufeff\nphone_number;name;company;timezone\n+12125550101;"Lopez; Maria";Acme;America/New_York\n\n+12125550102;Park;"Park ""&"" Co";\n');
  });

  it("names what is wrong with a mapping", () => {
    expect(mappingProblems([{ role: "name", variable: "name" }])).toContain("Choose the column that holds the phone number.");
    expect(
      mappingProblems([
        { role: "phone_number", variable: "phone" },
        { role: "variable", variable: "Company" },
        { role: "variable", variable: "tz" },
        { role: "variable", variable: "plan" },
        { role: "variable", variable: "plan" },
      ]),
    ).toEqual([
      "“Company” is not a variable name: use lower-case letters, digits and _, starting with a letter.",
      "“tz” is a name the API reads as a column of its own; choose another variable name.",
      "Two columns are both named “plan”.",
    ]);
  });

  it("has no preview for a file without a header", () => {
    expect(previewLeads("\n\n")).toBeNull();
  });
});
